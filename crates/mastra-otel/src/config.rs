//! Where spans go: the OTLP/HTTP endpoint and the service name, from the standard
//! environment variables or set in code.

use crate::OtelError;

/// The endpoint used when none is configured (the OTLP/HTTP default).
pub const DEFAULT_ENDPOINT: &str = "http://localhost:4318";

/// The export's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtelConfig {
    traces_url: String,
    service_name: String,
}

impl OtelConfig {
    /// From the environment: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (the full traces URL), else
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` (a base URL, `/v1/traces` appended), else
    /// [`DEFAULT_ENDPOINT`]; `OTEL_SERVICE_NAME`, else `mastra`.
    pub fn from_env() -> Result<Self, OtelError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let traces_url = match var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            Some(url) => check_url(url)?,
            None => {
                traces_url(&var("OTEL_EXPORTER_OTLP_ENDPOINT").unwrap_or(DEFAULT_ENDPOINT.into()))?
            }
        };
        Ok(Self {
            traces_url,
            service_name: var("OTEL_SERVICE_NAME").unwrap_or_else(|| "mastra".into()),
        })
    }

    /// Exports to the collector at `endpoint` (a base URL: spans go to `<endpoint>/v1/traces`).
    pub fn endpoint(endpoint: &str) -> Result<Self, OtelError> {
        Ok(Self {
            traces_url: traces_url(endpoint)?,
            service_name: "mastra".into(),
        })
    }

    /// The `service.name` the spans are reported under.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = name.into();
        self
    }

    /// The URL spans are posted to.
    pub fn traces_url(&self) -> &str {
        &self.traces_url
    }

    pub fn service(&self) -> &str {
        &self.service_name
    }
}

fn traces_url(base: &str) -> Result<String, OtelError> {
    let base = check_url(base.trim().to_owned())?;
    Ok(format!("{}/v1/traces", base.trim_end_matches('/')))
}

fn check_url(url: String) -> Result<String, OtelError> {
    match reqwest::Url::parse(url.trim()) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(url.trim().to_owned()),
        Ok(parsed) => Err(OtelError::Config(format!(
            "the OTLP endpoint `{url}` is not http(s) (scheme `{}`)",
            parsed.scheme()
        ))),
        Err(error) => Err(OtelError::Config(format!(
            "the OTLP endpoint `{url}` is not a URL: {error}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_path_is_appended_to_a_base_endpoint() {
        let config = OtelConfig::endpoint("http://collector:4318/").unwrap();
        assert_eq!(config.traces_url(), "http://collector:4318/v1/traces");
        assert_eq!(config.service(), "mastra");
        let named = config.service_name("api");
        assert_eq!(named.service(), "api");
    }

    #[test]
    fn a_bad_endpoint_is_a_clear_error() {
        for bad in ["collector:4318", "not a url", "ftp://collector"] {
            let error = OtelConfig::endpoint(bad).unwrap_err();
            assert!(matches!(error, OtelError::Config(_)), "{bad}: {error}");
            assert!(error.to_string().contains("OTLP endpoint"), "{error}");
        }
    }
}
