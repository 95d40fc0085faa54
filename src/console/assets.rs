//! The console's static files, embedded in the binary (nothing to deploy, no CDN).

use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

/// name in URLs, content type, bytes.
const FILES: [(&str, &str, &[u8]); 4] = [
    (
        "console.css",
        "text/css; charset=utf-8",
        include_bytes!("assets/console.css"),
    ),
    (
        "graph.css",
        "text/css; charset=utf-8",
        crate::graph::STYLESHEET.as_bytes(),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/console.js"),
    ),
    (
        "panzoom.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/vendor/panzoom.min.js"),
    ),
];

pub async fn serve(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, bytes)) => (
            [
                (CONTENT_TYPE, *content_type),
                (CACHE_CONTROL, "public, max-age=300"),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such file\n").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    #[derive(serde::Deserialize)]
    struct Manifest {
        file: Vec<Vendored>,
    }

    #[derive(serde::Deserialize)]
    struct Vendored {
        path: String,
        version: String,
        license: String,
        license_file: String,
        sha256: String,
    }

    /// Every vendored file is the one the manifest names, byte for byte, with its licence.
    #[test]
    fn vendored_files_match_their_manifest() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/console/assets");
        let manifest: Manifest =
            toml::from_str(&std::fs::read_to_string(dir.join("VENDORED.toml")).unwrap()).unwrap();
        assert!(!manifest.file.is_empty());
        for file in &manifest.file {
            let bytes = std::fs::read(dir.join(&file.path)).unwrap();
            let digest: String = Sha256::digest(&bytes)
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect();
            assert_eq!(digest, file.sha256, "{} changed", file.path);
            assert!(!file.version.is_empty() && !file.license.is_empty());
            assert!(
                dir.join(&file.license_file).is_file(),
                "{}",
                file.license_file
            );
            let name = file.path.rsplit('/').next().unwrap();
            let served = super::FILES.iter().find(|(served, _, _)| *served == name);
            assert_eq!(
                served.map(|(_, _, b)| *b),
                Some(&bytes[..]),
                "{name} is served"
            );
        }
    }
}
