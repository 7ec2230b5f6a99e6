//! Log output: `tracing` with `RUST_LOG` levels (default `info`) in the
//! configured format. Secrets never reach here: configuration values that hold
//! them are redacted by their `Debug`, and handlers log ids, not credentials.

use tracing_subscriber::EnvFilter;
use zaffre_server::LogFormat;

/// Installs the global subscriber; later calls are ignored (tests may call it twice).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
