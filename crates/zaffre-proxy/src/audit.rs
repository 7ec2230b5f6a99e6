//! Stage 8, the **audit record**: one [`AuditRecord`] per call, refusals included, and one log line.
//!
//! Host and path are those parsed after interpolation with every secure value (and the JWT) masked as
//! `[secure:NAME]` / `[jwt]`; the query string is never recorded (queries carry tokens). Refusal messages are
//! masked the same way before they leave the crate, as defence in depth: they are written from names only.

use crate::check::Target;
use crate::interpolate::Masker;
use crate::outcome::{AuditRecord, Refusal, UpstreamResponse};

/// Fills the target fields of the record.
pub fn record_target(audit: &mut AuditRecord, target: &Target, masker: &Masker) {
    audit.scheme = if target.https { "https" } else { "http" }.to_string();
    audit.host = masker.mask(&target.host_str());
    audit.port = target.port;
    audit.path = masker.mask(target.url.path());
}

/// Finishes the record and logs the call (masked fields only).
pub fn finish(audit: &mut AuditRecord, result: &Result<UpstreamResponse, Refusal>) {
    match result {
        Ok(response) => {
            audit.status = Some(response.status);
            audit.retries = response.retries;
            tracing::debug!(
                method = %audit.method,
                scheme = %audit.scheme,
                host = %audit.host,
                port = audit.port,
                path = %audit.path,
                status = response.status,
                retries = response.retries,
                duration_ms = audit.duration.as_millis() as u64,
                response_bytes = audit.response_bytes,
                "proxied request"
            );
        }
        Err(refusal) => {
            audit.status = None;
            audit.refusal = Some(format!("{}: {}", refusal.code, refusal.message));
            tracing::info!(
                method = %audit.method,
                scheme = %audit.scheme,
                host = %audit.host,
                port = audit.port,
                path = %audit.path,
                refusal = %refusal.code,
                message = %refusal.message,
                duration_ms = audit.duration.as_millis() as u64,
                "proxy refused a request"
            );
        }
    }
}
