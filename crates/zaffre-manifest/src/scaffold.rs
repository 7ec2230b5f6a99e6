//! A new app's files: a working ticket sidebar app, as `zaffre app new` writes it.
//!
//! Kept here, next to the validator, so a test can check that what we
//! scaffold validates clean. No I/O: the CLI writes the files.

use std::collections::BTreeMap;

/// Where the stock ZAF SDK lives. zaffre rewrites this URL to its own copy
/// of the SDK when it serves the app, so the same app runs on Zendesk too.
pub const ZAF_SDK_URL: &str =
    "https://static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk.min.js";

/// The files of a new ticket sidebar app called `name`, by relative path.
pub fn new_app(name: &str) -> BTreeMap<String, Vec<u8>> {
    // JSON-escaped, for the manifest and the translation file.
    let name_json = serde_json::Value::String(name.to_owned()).to_string();
    let html_name = name
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    let mut files = BTreeMap::new();
    files.insert(
        "manifest.json".to_owned(),
        MANIFEST.replace("{name}", &name_json).into_bytes(),
    );
    files.insert(
        "translations/en.json".to_owned(),
        TRANSLATIONS.replace("{name}", &name_json).into_bytes(),
    );
    files.insert(
        "assets/iframe.html".to_owned(),
        IFRAME
            .replace("{name}", &html_name)
            .replace("{sdk}", ZAF_SDK_URL)
            .into_bytes(),
    );
    files.insert("assets/main.js".to_owned(), MAIN_JS.as_bytes().to_vec());
    files.insert("assets/logo.png".to_owned(), logo_png(320));
    files.insert("assets/logo-small.png".to_owned(), logo_png(128));
    files.insert(
        "README.md".to_owned(),
        README.replace("{name}", name).into_bytes(),
    );
    files.insert(
        ".gitignore".to_owned(),
        b"tmp/\nzcli.apps.config.json\n".to_vec(),
    );
    files
}

const MANIFEST: &str = r#"{
  "name": {name},
  "author": {
    "name": "Your Name",
    "email": "you@example.com",
    "url": "https://example.com"
  },
  "defaultLocale": "en",
  "private": true,
  "location": {
    "support": {
      "ticket_sidebar": {
        "url": "assets/iframe.html",
        "flexible": true
      }
    }
  },
  "version": "1.0.0",
  "frameworkVersion": "2.0",
  "domainWhitelist": ["api.example.com"],
  "parameters": [
    {
      "name": "greeting",
      "type": "text",
      "required": false,
      "default": "Hello"
    },
    {
      "name": "api_token",
      "type": "text",
      "required": false,
      "secure": true,
      "scopes": ["header"]
    }
  ]
}
"#;

const TRANSLATIONS: &str = r#"{
  "app": {
    "name": {name},
    "short_description": "Shows the ticket's subject and sets its status.",
    "long_description": "A starting point for a ticket sidebar app: it reads and follows the ticket subject, changes the ticket status, and calls an API with a token that stays on the server.",
    "installation_instructions": "Enter a greeting and, optionally, a token for api.example.com.",
    "parameters": {
      "greeting": {
        "label": "Greeting",
        "helpText": "Shown above the ticket subject."
      },
      "api_token": {
        "label": "API token for api.example.com",
        "helpText": "Kept on the server; the app only ever sees {{setting.api_token}}."
      }
    }
  },
  "sidebar": {
    "subject": "Subject",
    "mark_pending": "Mark as pending",
    "call_api": "Call the API"
  }
}
"#;

const IFRAME: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{name}</title>
  <style>
    body { font: 14px/1.4 system-ui, sans-serif; margin: 0; padding: 8px; color: #2f3941; }
    h2 { font-size: 12px; text-transform: uppercase; color: #68737d; margin: 0 0 4px; }
    p { margin: 0 0 12px; overflow-wrap: anywhere; }
    button { font: inherit; padding: 4px 10px; margin-right: 6px; }
    #status { color: #68737d; min-height: 1.4em; }
  </style>
</head>
<body>
  <p id="greeting"></p>
  <h2>Subject</h2>
  <p id="subject">…</p>
  <button id="pending" type="button">Mark as pending</button>
  <button id="call-api" type="button">Call the API</button>
  <p id="status" role="status"></p>
  <!-- The ZAF SDK: ZAFClient talks to the helpdesk page that hosts this iframe. -->
  <script src="{sdk}"></script>
  <script src="main.js"></script>
</body>
</html>
"#;

const MAIN_JS: &str = r#"// A ticket sidebar app. It runs in an iframe; ZAFClient is its only way to
// reach the ticket, by messages to the helpdesk page around it.
const client = ZAFClient.init();

const $ = (id) => document.getElementById(id);
const status = (text) => { $('status').textContent = text; };

// The sidebar is as tall as the app asks for.
client.invoke('resize', { width: '100%', height: '190px' });

// Settings the admin chose at installation. Secure ones never reach the
// browser: the app refers to them as {{setting.NAME}} in secure requests.
client.metadata().then((metadata) => {
  $('greeting').textContent = metadata.settings.greeting || '';
});

// Show the subject now, and again whenever the agent edits it.
client.get('ticket.subject').then((data) => {
  $('subject').textContent = data['ticket.subject'] || '(no subject)';
});
client.on('ticket.subject.changed', (subject) => {
  $('subject').textContent = subject || '(no subject)';
});

$('pending').addEventListener('click', async () => {
  try {
    await client.set('ticket.status', 'pending');
    status('Status set to pending (saved when the agent submits the ticket).');
  } catch (error) {
    status('Could not change the status: ' + (error.message || error));
  }
});

// A secure request: the helpdesk server puts the token into the header, and
// only for hosts in the manifest's domainWhitelist.
$('call-api').addEventListener('click', async () => {
  try {
    const reply = await client.request({
      url: 'https://api.example.com/status',
      headers: { Authorization: 'Bearer {{setting.api_token}}' },
      secure: true,
    });
    status('The API answered: ' + JSON.stringify(reply).slice(0, 120));
  } catch (error) {
    status('The API call failed (' + (error.status || 'no answer') + ').');
  }
});
"#;

const README: &str = r#"# {name}

A Zendesk Apps Framework v2 app for the ticket sidebar, made with `zaffre app new`.

- `manifest.json` declares the location, the settings (`greeting`, and
  `api_token`, which is secure: its value stays on the server and can only be
  put into a request header for `api.example.com`), and the framework version.
- `assets/iframe.html` and `assets/main.js` are the app: they load the ZAF SDK,
  show the ticket subject, follow changes to it, set the status, and make a
  secure request.
- `translations/en.json` has the app's name, descriptions and setting labels.
- `assets/logo.png` (320×320) and `assets/logo-small.png` (128×128) are
  placeholders; replace them with your own.

Check it, then build the zip to upload:

    zaffre app validate .
    zaffre app package .
"#;

/// A square PNG: a blue disc on white, as a 1-bit palette image (small
/// enough to store uncompressed, so no compressor is needed).
pub fn logo_png(size: u32) -> Vec<u8> {
    let row_bytes = size.div_ceil(8) as usize;
    let mut raw = Vec::with_capacity((row_bytes + 1) * size as usize);
    let center = f64::from(size) / 2.0;
    let radius = center * 0.8;
    for y in 0..size {
        raw.push(0); // filter: none
        let mut row = vec![0u8; row_bytes];
        for x in 0..size {
            let (dx, dy) = (f64::from(x) + 0.5 - center, f64::from(y) + 0.5 - center);
            if dx * dx + dy * dy <= radius * radius {
                row[(x / 8) as usize] |= 0x80 >> (x % 8);
            }
        }
        raw.extend_from_slice(&row);
    }
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&size.to_be_bytes());
    ihdr.extend_from_slice(&size.to_be_bytes());
    ihdr.extend_from_slice(&[1, 3, 0, 0, 0]); // 1 bit, palette, deflate, adaptive filter, no interlace
    let palette = [0xff, 0xff, 0xff, 0x1f, 0x73, 0xb7];

    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"PLTE", &palette);
    chunk(&mut png, b"IDAT", &zlib_stored(&raw));
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// A zlib stream of stored (uncompressed) deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = if data.is_empty() {
        vec![&[][..]]
    } else {
        data.chunks(65_535).collect()
    };
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for byte in data {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_and_png_header() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        let png = logo_png(128);
        assert_eq!(crate::validate::png_size(&png), Some((128, 128)));
    }

    #[test]
    fn names_are_escaped() {
        let files = new_app("Tom \"&\" <Jerry>");
        let manifest = String::from_utf8(files["manifest.json"].clone()).unwrap();
        assert!(manifest.contains(r#""name": "Tom \"&\" <Jerry>""#));
        let html = String::from_utf8(files["assets/iframe.html"].clone()).unwrap();
        assert!(html.contains("Tom &quot;&amp;&quot; &lt;Jerry&gt;"));
    }
}
