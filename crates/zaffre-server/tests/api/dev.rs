//! Outside `zaffre dev`, the dev routes reveal nothing and sign nobody in:
//! `/api/zaffre/dev` says `{"dev": false}` (the workspace asks on every
//! page), the event stream and the sign-in link are 404. Dev mode itself is
//! tested end to end in crates/zaffre-cli/tests/dev.rs.

use reqwest::Method;
use serde_json::json;

use crate::common::{for_each_engine, send};

#[tokio::test]
async fn dev_routes_are_off_outside_dev_mode() {
    for_each_engine(|app| async move {
        let (status, body) = app.get(&app.agent, "/api/zaffre/dev").await;
        assert_eq!((status, body), (200, json!({"dev": false})));
        // Still staff only.
        let (status, _) = app.get(&app.end_user, "/api/zaffre/dev").await;
        assert_eq!(status, 403);
        let (status, _) = send(app.anonymous(Method::GET, "/api/zaffre/dev")).await;
        assert_eq!(status, 401);

        let (status, body) = app.get(&app.admin, "/api/zaffre/dev/events").await;
        assert_eq!(status, 404, "{body}");

        let response = app
            .anonymous(Method::GET, "/auth/dev-link?token=anything&next=/tickets/1")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 404);
        assert!(response.headers().get("set-cookie").is_none());
    })
    .await;
}
