//! Choosing and opening a database from its URL. (Being written.)
