//! A request as the twin receives it (method, path, query, body: exactly what the server read
//! off the socket, so a journal of them replays the session) and the answer it gives: a status
//! code and a JSON body. Errors are CB-Spider's: HTTP 500 with `{"message": ...}` for almost
//! every failure, "does not exist" wording for a missing object; a body the twin cannot read is
//! a 400.
//!
//! Sources: `../shared/domain/spider-api.md` sections 0 and 1.1 (`echo.NewHTTPError(500, ..)`,
//! `ConnectionName` in the body or the query).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A request to the twin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiRequest {
    pub method: String,
    /// The path, percent-encoded as received (`/spider/vm/web-1`).
    pub path: String,
    /// The query string without `?` (empty if none).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub query: String,
    /// The body as text (not UTF-8: replaced characters, as the server read it).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub body: String,
}

impl ApiRequest {
    pub fn new(method: &str, path: &str, query: &str, body: &str) -> Self {
        ApiRequest {
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            query: query.to_string(),
            body: body.to_string(),
        }
    }

    /// The value of a query parameter (decoded).
    pub fn query_param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The body parsed as `T`; an empty body reads as `T::default()` (GET and DELETE send
    /// none, or `{}`).
    pub fn json<T: DeserializeOwned + Default>(&self) -> Result<T, ApiError> {
        if self.body.trim().is_empty() {
            return Ok(T::default());
        }
        serde_json::from_str(&self.body)
            .map_err(|e| ApiError::bad_request(format!("the request body is not valid: {e}")))
    }

    /// `ConnectionName` from the JSON body, else from the query string (CB-Spider accepts both
    /// since v0.5.1; CB-Tumblebug sends it in the body of GETs).
    pub fn connection_name(&self) -> Result<String, ApiError> {
        let body: super::wire::ConnectionOnly = self.json()?;
        let name = if body.connection_name.is_empty() {
            self.query_param("ConnectionName").unwrap_or_default()
        } else {
            body.connection_name
        };
        if name.is_empty() {
            return Err(ApiError::internal("ConnectionName is required"));
        }
        Ok(name)
    }
}

/// The twin's answer to one request.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiAnswer {
    /// The request's id (its order of arrival, from 1).
    pub id: u64,
    /// When it was answered, in simulated time.
    pub at: crate::engine::SimTime,
    pub status: u16,
    /// JSON text; empty for a 204.
    pub body: String,
}

/// A refused request: the HTTP status and the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
}

impl ApiError {
    /// CB-Spider's answer to nearly every failure: 500.
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError {
            status: 500,
            message: message.into(),
        }
    }

    /// A missing object, in Spider's wording (clients match "does not exist" / "not found").
    pub fn not_exist(what: &str, name: &str) -> Self {
        Self::internal(format!("{what} '{name}' does not exist!"))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            status: 400,
            message: message.into(),
        }
    }

    pub fn not_found_route() -> Self {
        ApiError {
            status: 404,
            message: "Not Found".into(),
        }
    }

    pub fn method_not_allowed() -> Self {
        ApiError {
            status: 405,
            message: "Method Not Allowed".into(),
        }
    }

    /// The JSON body: `{"message": ...}`.
    pub fn body(&self) -> String {
        serde_json::json!({ "message": self.message }).to_string()
    }
}

/// A name a client gives an object: 1 to 255 characters of letters, digits, `-`, `_` and `.`
/// (CSPs differ; these pass everywhere Spider runs).
pub fn check_name(what: &str, name: &str) -> Result<(), ApiError> {
    if name.is_empty() {
        return Err(ApiError::bad_request(format!("{what} name is empty")));
    }
    if name.len() > 255
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        let shown: String = name.chars().take(64).collect();
        return Err(ApiError::bad_request(format!(
            "{what} name {shown:?} has characters other than letters, digits, '-', '_' and '.' \
             (or is longer than 255)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_name_from_body_or_query() {
        let r = ApiRequest::new("get", "/spider/vm", "", r#"{"ConnectionName":"c1"}"#);
        assert_eq!(r.connection_name().unwrap(), "c1");
        let r = ApiRequest::new("GET", "/spider/vm", "ConnectionName=c%202", "");
        assert_eq!(r.connection_name().unwrap(), "c 2");
        let r = ApiRequest::new("GET", "/spider/vm", "", "{not json");
        assert_eq!(r.connection_name().unwrap_err().status, 400);
        let r = ApiRequest::new("GET", "/spider/vm", "", "");
        assert_eq!(r.connection_name().unwrap_err().status, 500);
    }

    #[test]
    fn names() {
        assert!(check_name("VM", "ns01-mcis01.vm_1").is_ok());
        assert!(check_name("VM", "").is_err());
        assert!(check_name("VM", "a b").is_err());
        assert!(check_name("VM", &"x".repeat(256)).is_err());
    }
}
