//! V3 signature `ACS3-HMAC-SHA256` (docs/COMPATIBILITY.md#v3-signatures): an `Authorization` header over a canonical
//! request made of the method, the query, the signed headers and the body's SHA-256.
//!
//! Pure functions: the caller passes the decoded query pairs, the request headers and the
//! raw body; no HTTP types appear here.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::v1::percent_encode;

type HmacSha256 = Hmac<Sha256>;

/// The only algorithm accepted after the `ACS3-` prefix.
pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// Hex SHA-256 of an empty body, what GET requests declare in `x-acs-content-sha256`.
pub const EMPTY_PAYLOAD_HASH: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Why a V3 request cannot be verified. `Display` is the wire message; the error layer maps
/// `MissingHeader` to `400 MissingRequiredHeader`, `PayloadHashMismatch` to
/// `403 SignatureNotMatch` (docs/COMPATIBILITY.md#v3-signatures step 2) and the two `Authorization` problems to
/// `400 InvalidArgument` naming `Authorization` (our choice: the spec is silent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum V3Error {
    #[error("Parameter error: Authorization is malformed: {0}")]
    MalformedAuthorization(String),
    #[error("Parameter error: Authorization algorithm '{0}' is not supported; use {ALGORITHM}")]
    UnsupportedAlgorithm(String),
    #[error("The HTTP header '{0}' must be specified.")]
    MissingHeader(String),
    #[error("x-acs-content-sha256 does not match the SHA-256 of the request body")]
    PayloadHashMismatch,
}

/// The parsed `Authorization: ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V3Authorization {
    pub access_key_id: String,
    /// As sent (the SDK sends them lower case and sorted); order is signing order.
    pub signed_headers: Vec<String>,
    /// As sent; [`verify`] decides whether it is well-formed hex.
    pub signature: String,
}

/// Parses the `Authorization` header (docs/COMPATIBILITY.md#v3-signatures step 1).
///
/// Fields may come in any order, with optional spaces after the commas; each of
/// `Credential`, `SignedHeaders` and `Signature` must appear exactly once and be non-empty.
/// Unknown fields are ignored so that a future SDK adding one still gets through.
pub fn parse_authorization(header: &str) -> Result<V3Authorization, V3Error> {
    let malformed = |detail: &str| V3Error::MalformedAuthorization(detail.to_string());
    let header = header.trim();
    let (algorithm, fields) = header
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((header, ""));
    if algorithm != ALGORITHM {
        return Err(V3Error::UnsupportedAlgorithm(algorithm.to_string()));
    }

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for field in fields.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let Some((name, value)) = field.split_once('=') else {
            return Err(malformed("expected name=value fields separated by commas"));
        };
        let slot = match name.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.replace(value.trim()).is_some() {
            return Err(V3Error::MalformedAuthorization(format!(
                "{} is given more than once",
                name.trim()
            )));
        }
    }

    let credential = credential
        .filter(|v| !v.is_empty())
        .ok_or_else(|| malformed("Credential is missing"))?;
    let signed_headers = signed_headers
        .filter(|v| !v.is_empty())
        .ok_or_else(|| malformed("SignedHeaders is missing"))?;
    let signature = signature
        .filter(|v| !v.is_empty())
        .ok_or_else(|| malformed("Signature is missing"))?;
    let signed_headers: Vec<String> = signed_headers.split(';').map(str::to_string).collect();
    if signed_headers.iter().any(|name| name.is_empty()) {
        return Err(malformed("SignedHeaders contains an empty header name"));
    }

    Ok(V3Authorization {
        access_key_id: credential.to_string(),
        signed_headers,
        signature: signature.to_string(),
    })
}

/// The canonical request (docs/COMPATIBILITY.md#v3-signatures steps 3–5).
///
/// * `query`: the decoded query pairs only (body parameters are not signed); sorted here.
/// * `headers`: every request header as (name, value); names match case-insensitively and a
///   name may repeat (its values are trimmed, sorted and joined with `,`).
/// * `signed_headers`: the list from `Authorization`, used in its order and spelling.
pub fn canonical_request<QN, QV, HN, HV, S>(
    method: &str,
    query: &[(QN, QV)],
    headers: &[(HN, HV)],
    signed_headers: &[S],
    hashed_payload: &str,
) -> Result<String, V3Error>
where
    QN: AsRef<str>,
    QV: AsRef<str>,
    HN: AsRef<str>,
    HV: AsRef<str>,
    S: AsRef<str>,
{
    let mut canonical_headers = String::new();
    for signed in signed_headers {
        let signed = signed.as_ref();
        let mut values: Vec<&str> = headers
            .iter()
            .filter(|(name, _)| name.as_ref().eq_ignore_ascii_case(signed))
            .map(|(_, value)| value.as_ref().trim())
            .collect();
        if values.is_empty() {
            return Err(V3Error::MissingHeader(signed.to_string()));
        }
        values.sort_unstable();
        canonical_headers.push_str(signed);
        canonical_headers.push(':');
        canonical_headers.push_str(&values.join(","));
        canonical_headers.push('\n');
    }
    let signed_headers_line = signed_headers
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(";");

    Ok(format!(
        "{}\n/\n{}\n{}\n{}\n{}",
        method.to_ascii_uppercase(),
        canonical_query(query),
        canonical_headers,
        signed_headers_line,
        hashed_payload
    ))
}

/// Query pairs sorted by name (then value), percent-encoded with the V1 rule (docs/COMPATIBILITY.md#v3-signatures step 3).
fn canonical_query<N: AsRef<str>, V: AsRef<str>>(query: &[(N, V)]) -> String {
    let mut pairs: Vec<(&str, &str)> = query
        .iter()
        .map(|(name, value)| (name.as_ref(), value.as_ref()))
        .collect();
    pairs.sort_unstable();
    pairs
        .iter()
        .map(|(name, value)| format!("{}={}", percent_encode(name), percent_encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `ACS3-HMAC-SHA256\n` + hex SHA-256 of the canonical request (docs/COMPATIBILITY.md#v3-signatures step 6).
pub fn string_to_sign(canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{}",
        hex_lower(&Sha256::digest(canonical_request.as_bytes()))
    )
}

/// Lower-case hex HMAC-SHA256 keyed with the bare secret (docs/COMPATIBILITY.md#v3-signatures step 7).
pub fn sign(secret: &str, string_to_sign: &str) -> String {
    hex_lower(&mac(secret, string_to_sign).finalize().into_bytes())
}

/// Compares the hex `signature` with the expected one in constant time; anything that is not
/// hex (either case) does not match.
pub fn verify(secret: &str, string_to_sign: &str, signature: &str) -> bool {
    let Some(given) = hex_decode(signature) else {
        return false;
    };
    mac(secret, string_to_sign).verify_slice(&given).is_ok()
}

/// Lower-case hex SHA-256 of the raw body (docs/COMPATIBILITY.md#v3-signatures step 2).
pub fn hashed_payload(body: &[u8]) -> String {
    hex_lower(&Sha256::digest(body))
}

/// The body hash to sign with, after checking it against `x-acs-content-sha256` when the
/// client sent one (docs/COMPATIBILITY.md#v3-signatures step 2). The computed value is what gets signed.
pub fn checked_payload_hash(declared: Option<&str>, body: &[u8]) -> Result<String, V3Error> {
    let computed = hashed_payload(body);
    match declared {
        // A body hash is not secret, so an ordinary comparison is fine here.
        Some(declared) if !declared.trim().eq_ignore_ascii_case(&computed) => {
            Err(V3Error::PayloadHashMismatch)
        }
        _ => Ok(computed),
    }
}

fn mac(secret: &str, string_to_sign: &str) -> HmacSha256 {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(string_to_sign.as_bytes());
    mac
}

fn hex_lower(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks_exact(2)
        .map(|pair| {
            let high = char::from(pair[0]).to_digit(16)?;
            let low = char::from(pair[1]).to_digit(16)?;
            u8::try_from(high << 4 | low).ok()
        })
        .collect()
}

impl From<V3Error> for crate::error::ApiError {
    fn from(error: V3Error) -> Self {
        match error {
            V3Error::MissingHeader(name) => crate::error::ApiError::missing_required_header(&name),
            V3Error::PayloadHashMismatch => crate::error::ApiError::signature_not_match(None),
            other => crate::error::ApiError::new(
                crate::error::ErrorCode::InvalidArgument,
                other.to_string(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "testsecret";

    // docs/COMPATIBILITY.md#v3-signatures vector C: V3 GET DescribeExecution.
    const VECTOR_C_AUTHORIZATION: &str = "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=e484f67a9422c908eeb5293146d59abee88c92ef2dfcc40dfc01c1de6e426616";
    const VECTOR_C_CANONICAL_REQUEST: &str = "GET\n/\nExecutionName=exec1&FlowName=my_flow\n\
        host:fnf.example.test\n\
        x-acs-action:DescribeExecution\n\
        x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
        x-acs-date:2024-05-01T12:00:00Z\n\
        x-acs-signature-nonce:3f0c2a8e5b7d4c1e9a6b8d0f2e4c6a8b\n\
        x-acs-version:2019-03-15\n\
        \n\
        host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n\
        e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const VECTOR_C_STRING_TO_SIGN: &str =
        "ACS3-HMAC-SHA256\ne201462559ca14ed1e89cbfbfefa005c1053a97e7f98f81d74f9015fbc5fa07f";

    fn vector_c_headers() -> Vec<(&'static str, &'static str)> {
        vec![
            ("accept", "application/json"),
            ("host", "fnf.example.test"),
            ("x-acs-action", "DescribeExecution"),
            ("x-acs-version", "2019-03-15"),
            ("x-acs-date", "2024-05-01T12:00:00Z"),
            ("x-acs-signature-nonce", "3f0c2a8e5b7d4c1e9a6b8d0f2e4c6a8b"),
            ("x-acs-content-sha256", EMPTY_PAYLOAD_HASH),
            ("authorization", VECTOR_C_AUTHORIZATION),
        ]
    }

    #[test]
    fn vector_c_byte_exact() {
        let authorization = parse_authorization(VECTOR_C_AUTHORIZATION).unwrap();
        assert_eq!(authorization.access_key_id, "testid");
        assert_eq!(authorization.signed_headers.len(), 6);

        let body_hash = checked_payload_hash(Some(EMPTY_PAYLOAD_HASH), b"").unwrap();
        assert_eq!(body_hash, EMPTY_PAYLOAD_HASH);
        // Query pairs arrive in any order; the canonical form sorts them.
        let query = [("FlowName", "my_flow"), ("ExecutionName", "exec1")];
        let request = canonical_request(
            "GET",
            &query,
            &vector_c_headers(),
            &authorization.signed_headers,
            &body_hash,
        )
        .unwrap();
        assert_eq!(request, VECTOR_C_CANONICAL_REQUEST);

        let sts = string_to_sign(&request);
        assert_eq!(sts, VECTOR_C_STRING_TO_SIGN);
        assert_eq!(sign(SECRET, &sts), authorization.signature);
        assert!(verify(SECRET, &sts, &authorization.signature));
        assert!(verify(
            SECRET,
            &sts,
            &authorization.signature.to_uppercase()
        ));
        assert!(!verify("othersecret", &sts, &authorization.signature));
    }

    #[test]
    fn bad_signatures_do_not_match() {
        let good = sign(SECRET, VECTOR_C_STRING_TO_SIGN);
        for bad in ["", "zz", "abc", &good[..62], &format!("{good}00")] {
            assert!(!verify(SECRET, VECTOR_C_STRING_TO_SIGN, bad), "{bad:?}");
        }
    }

    #[test]
    fn missing_signed_header_is_named() {
        let headers: Vec<_> = vector_c_headers()
            .into_iter()
            .filter(|(name, _)| *name != "x-acs-date")
            .collect();
        let signed = ["host", "x-acs-date"];
        let error = canonical_request("GET", &[("a", "1")], &headers, &signed, EMPTY_PAYLOAD_HASH)
            .unwrap_err();
        assert_eq!(error, V3Error::MissingHeader("x-acs-date".into()));
        assert_eq!(
            error.to_string(),
            "The HTTP header 'x-acs-date' must be specified."
        );
    }

    #[test]
    fn header_values_are_trimmed_sorted_and_joined() {
        let headers = [
            ("X-Acs-Multi", "  b "),
            ("x-acs-multi", "a"),
            ("Host", "\thost.test  "),
            ("x-acs-empty", ""),
        ];
        let signed = ["host", "x-acs-empty", "x-acs-multi"];
        let request = canonical_request("get", &[("Q", "a b*")], &headers, &signed, "h").unwrap();
        assert_eq!(
            request,
            "GET\n/\nQ=a%20b%2A\nhost:host.test\nx-acs-empty:\nx-acs-multi:a,b\n\n\
             host;x-acs-empty;x-acs-multi\nh"
        );
    }

    #[test]
    fn query_less_canonical_form() {
        let no_query: [(&str, &str); 0] = [];
        let request = canonical_request(
            "POST",
            &no_query,
            &[("host", "h")],
            &["host"],
            EMPTY_PAYLOAD_HASH,
        )
        .unwrap();
        assert_eq!(
            request,
            format!("POST\n/\n\nhost:h\n\nhost\n{EMPTY_PAYLOAD_HASH}")
        );
    }

    #[test]
    fn payload_hash_is_checked_against_the_declared_one() {
        let body = b"FlowName=my_flow";
        let computed = hashed_payload(body);
        assert_eq!(checked_payload_hash(None, body), Ok(computed.clone()));
        assert_eq!(
            checked_payload_hash(Some(&computed.to_uppercase()), body),
            Ok(computed)
        );
        assert_eq!(
            checked_payload_hash(Some(EMPTY_PAYLOAD_HASH), body),
            Err(V3Error::PayloadHashMismatch)
        );
        assert_eq!(hashed_payload(b""), EMPTY_PAYLOAD_HASH);
    }

    #[test]
    fn authorization_parsing_is_tolerant_of_spacing_and_order() {
        let parsed = parse_authorization(
            "  ACS3-HMAC-SHA256   Signature=ab, SignedHeaders=host;x-acs-date , Credential=id, Extra=1",
        )
        .unwrap();
        assert_eq!(
            parsed,
            V3Authorization {
                access_key_id: "id".into(),
                signed_headers: vec!["host".into(), "x-acs-date".into()],
                signature: "ab".into(),
            }
        );
    }

    #[test]
    fn authorization_problems_are_reported() {
        assert_eq!(
            parse_authorization("ACS3-HMAC-SM3 Credential=a,SignedHeaders=host,Signature=ab"),
            Err(V3Error::UnsupportedAlgorithm("ACS3-HMAC-SM3".into()))
        );
        for bad in [
            "ACS3-HMAC-SHA256",
            "ACS3-HMAC-SHA256 ",
            "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host",
            "ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=ab",
            "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host;;x,Signature=ab",
            "ACS3-HMAC-SHA256 Credential=a,Credential=b,SignedHeaders=host,Signature=ab",
            "ACS3-HMAC-SHA256 Credential=a,SignedHeaders,Signature=ab",
        ] {
            assert!(
                matches!(
                    parse_authorization(bad),
                    Err(V3Error::MalformedAuthorization(_))
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            parse_authorization("ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host")
                .unwrap_err()
                .to_string(),
            "Parameter error: Authorization is malformed: Signature is missing"
        );
    }
}
