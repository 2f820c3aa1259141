//! `UpstashRest`: the Upstash REST API as Upstash documents it. A command is a JSON array
//! (`["SET","k","v","PX","300000"]`) POSTed to the REST URL, answered by
//! `{"result": ...}` or `{"error": "..."}`; a pipeline is an array of commands POSTed to
//! `<url>/pipeline`, answered by an array of those, in order (not atomically). The token
//! goes in `Authorization: Bearer <token>`.

use std::fmt;
use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{StatusCode, Url};
use serde_json::Value;

use crate::error::shorten;
use crate::{UpstashConfig, UpstashError};

/// How much of an unexpected body an error message quotes.
const QUOTED: usize = 200;

/// A client of one database's REST API. Cheap to clone (one connection pool).
#[derive(Clone)]
pub struct UpstashRest {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    command_url: Url,
    pipeline_url: Url,
    max_response_bytes: usize,
}

impl fmt::Debug for UpstashRest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstashRest")
            .field("url", &self.inner.command_url.as_str())
            .finish_non_exhaustive()
    }
}

impl UpstashRest {
    /// A client for the database `config` names. Does not contact it.
    pub fn new(config: &UpstashConfig) -> Result<Self, UpstashError> {
        config.validate()?;
        let command_url = Url::parse(&config.url)
            .map_err(|error| UpstashError::Config(format!("bad REST URL: {error}")))?;
        // `<url>/pipeline`, also when the REST URL has a path (a proxy's, say).
        let mut base = command_url.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let pipeline_url = base
            .join("pipeline")
            .map_err(|error| UpstashError::Config(format!("bad REST URL: {error}")))?;

        let mut bearer =
            HeaderValue::from_str(&format!("Bearer {}", config.token)).map_err(|_| {
                UpstashError::Config("the Upstash token is not a valid header value".into())
            })?;
        bearer.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, bearer);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            // Upstash does not redirect; a 3xx is reported, and the token goes nowhere else.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| UpstashError::Config(format!("cannot build the client: {error}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                command_url,
                pipeline_url,
                max_response_bytes: config.max_response_bytes,
            }),
        })
    }

    /// Runs one command (`args[0]` is its name) and returns its `result`: a string, an
    /// integer, `null` or an array of those. An `{"error": ...}` answer is
    /// [`UpstashError::Command`].
    pub async fn command(&self, args: &[&str]) -> Result<Value, UpstashError> {
        let name = args.first().copied().unwrap_or_default();
        let body = serde_json::to_vec(args)
            .map_err(|error| UpstashError::Config(format!("cannot encode `{name}`: {error}")))?;
        let (status, bytes) = self.post(&self.inner.command_url, body).await?;
        let answer = parse_answer(name, status, &bytes)?;
        reply(name, answer)
    }

    /// Runs `commands` in one request, in order but not atomically (other clients'
    /// commands may interleave). The outer error is the request's; each inner result is
    /// one command's.
    pub async fn pipeline(
        &self,
        commands: &[&[&str]],
    ) -> Result<Vec<Result<Value, UpstashError>>, UpstashError> {
        let body = serde_json::to_vec(commands)
            .map_err(|error| UpstashError::Config(format!("cannot encode a pipeline: {error}")))?;
        let (status, bytes) = self.post(&self.inner.pipeline_url, body).await?;
        let answer = parse_answer("pipeline", status, &bytes)?;
        let Value::Array(answers) = answer else {
            return Err(UpstashError::Malformed(format!(
                "a pipeline was answered by {}",
                quote(&bytes)
            )));
        };
        if answers.len() != commands.len() {
            return Err(UpstashError::Malformed(format!(
                "a pipeline of {} commands got {} answers",
                commands.len(),
                answers.len()
            )));
        }
        Ok(commands
            .iter()
            .zip(answers)
            .map(|(command, answer)| reply(command.first().copied().unwrap_or_default(), answer))
            .collect())
    }

    /// POSTs `body`, returning the status and at most `max_response_bytes` of body.
    async fn post(&self, url: &Url, body: Vec<u8>) -> Result<(StatusCode, Vec<u8>), UpstashError> {
        let sent = body.len();
        let mut response = self
            .inner
            .http
            .post(url.clone())
            .body(body)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return Err(UpstashError::RequestTooLarge { bytes: sent });
        }
        let limit = self.inner.max_response_bytes;
        if response
            .content_length()
            .is_some_and(|length| length > limit as u64)
        {
            return Err(UpstashError::ResponseTooLarge { limit });
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            if bytes.len() + chunk.len() > limit {
                return Err(UpstashError::ResponseTooLarge { limit });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((status, bytes))
    }
}

/// The JSON answer of a request, or the error its status and body stand for.
fn parse_answer(command: &str, status: StatusCode, bytes: &[u8]) -> Result<Value, UpstashError> {
    let json: Option<Value> = serde_json::from_slice(bytes).ok();
    let error_field = json
        .as_ref()
        .and_then(|json| json.get("error"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let message = || error_field.clone().unwrap_or_else(|| quote(bytes));
    match status.as_u16() {
        401 | 403 => {
            return Err(UpstashError::Unauthorized {
                status: status.as_u16(),
                message: message(),
            })
        }
        408 | 429 | 500..=599 => {
            return Err(UpstashError::Http {
                status: status.as_u16(),
                message: message(),
            })
        }
        _ => {}
    }
    if let Some(message) = error_field.clone() {
        if status.is_success() || status == StatusCode::BAD_REQUEST {
            return Err(UpstashError::Command {
                command: command.to_owned(),
                message,
            });
        }
    }
    if !status.is_success() {
        return Err(UpstashError::Http {
            status: status.as_u16(),
            message: message(),
        });
    }
    json.ok_or_else(|| {
        UpstashError::Malformed(format!("`{command}` was answered by {}", quote(bytes)))
    })
}

/// One command's `{"result": ...}` or `{"error": "..."}`.
fn reply(command: &str, answer: Value) -> Result<Value, UpstashError> {
    let Value::Object(mut fields) = answer else {
        return Err(UpstashError::Malformed(format!(
            "`{command}` was answered by {}, not by {{\"result\": ...}}",
            shorten(&answer.to_string(), QUOTED)
        )));
    };
    if let Some(error) = fields.get("error") {
        return Err(UpstashError::Command {
            command: command.to_owned(),
            message: match error {
                Value::String(message) => message.clone(),
                other => other.to_string(),
            },
        });
    }
    match fields.remove("result") {
        Some(result) => Ok(result),
        None => Err(UpstashError::Malformed(format!(
            "`{command}` was answered by {}, which has neither `result` nor `error`",
            shorten(&Value::Object(fields).to_string(), QUOTED)
        ))),
    }
}

/// The start of a body, for messages.
fn quote(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "an empty body".to_owned();
    }
    format!("`{}`", shorten(&String::from_utf8_lossy(bytes), QUOTED))
}

/// A request that did not get an answer: retryable.
fn transport_error(error: reqwest::Error) -> UpstashError {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let error = error.without_url();
    let mut message = format!("{what}: {error}");
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    UpstashError::Transport(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn single(status: u16, body: &str) -> Result<Value, UpstashError> {
        let status = StatusCode::from_u16(status).unwrap();
        reply("GET", parse_answer("GET", status, body.as_bytes())?)
    }

    #[test]
    fn results_and_errors_follow_upstreams_format() {
        assert_eq!(single(200, r#"{"result":"OK"}"#).unwrap(), "OK");
        assert_eq!(single(200, r#"{"result":null}"#).unwrap(), Value::Null);
        assert_eq!(single(200, r#"{"result":[1,"a"]}"#).unwrap()[0], 1);
        let refused = single(400, r#"{"error":"WRONGTYPE Operation against a key"}"#);
        assert!(
            matches!(refused, Err(ref e) if e.is_wrong_type()),
            "{refused:?}"
        );
        let auth = single(401, r#"{"error":"Unauthorized"}"#).unwrap_err();
        assert!(matches!(
            auth,
            UpstashError::Unauthorized { status: 401, .. }
        ));
        assert!(
            auth.to_string().contains("UPSTASH_REDIS_REST_TOKEN"),
            "{auth}"
        );
        assert!(single(503, "busy").unwrap_err().is_retryable());
        assert!(single(429, r#"{"error":"ERR max requests limit"}"#)
            .unwrap_err()
            .is_retryable());
        assert!(!single(404, "not found").unwrap_err().is_retryable());
        let moved = single(301, "").unwrap_err();
        assert!(matches!(moved, UpstashError::Http { status: 301, .. }));
        assert!(!moved.is_retryable());
    }

    #[test]
    fn malformed_answers_are_clear_errors() {
        for body in ["<html>oops</html>", "", r#"{"foo":1}"#, "[1]", "\"OK\""] {
            let error = single(200, body).unwrap_err();
            assert!(
                matches!(error, UpstashError::Malformed(_)),
                "{body}: {error:?}"
            );
            assert!(!error.is_retryable());
            assert!(error.to_string().starts_with("malformed Upstash response"));
        }
    }
}
