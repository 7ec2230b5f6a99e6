//! The SQL implementation shared by both engines. (Being written.)
