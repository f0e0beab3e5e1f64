//! Asking Wikidata's SPARQL endpoint (the Wikidata Query Service) and reading its answers,
//! for `parley watchlist import`.
//!
//! The protocol is the W3C SPARQL 1.1 Protocol as the Query Service documents it
//! (<https://www.mediawiki.org/wiki/Wikidata_Query_Service/User_Manual#SPARQL_endpoint>): a
//! GET of `{endpoint}?query=…&format=json` (a form POST of the same for long queries),
//! answered in the W3C "SPARQL 1.1 Query Results
//! JSON Format" (`application/sparql-results+json`): `{"head": {"vars": […]}, "results":
//! {"bindings": [{var: {"type", "value", "datatype"?, "xml:lang"?}}]}}`. Only that format
//! is the contract; extra fields are ignored.
//!
//! Etiquette as for entity reads (see `client`): a descriptive User-Agent, at most
//! [`MAX_CONCURRENT`] requests at once, `Retry-After` obeyed on 429/503, and bodies capped
//! at `[daemon] max_body_bytes`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde::Deserialize;
use tokio::sync::Semaphore;

use super::WikidataError;
use super::client::{MAX_CONCURRENT, read_body, wait_before_retry};

/// The Wikidata Query Service.
pub const DEFAULT_ENDPOINT: &str = "https://query.wikidata.org/sparql";

/// The media type of SPARQL JSON results.
const RESULTS_JSON: &str = "application/sparql-results+json";

/// Longest GET URL sent; a longer query (e.g. a long `--countries` list) is POSTed as a
/// form instead, which the SPARQL Protocol and the Query Service accept, because servers
/// and proxies refuse URLs past a few kilobytes.
const MAX_GET_URL: usize = 4000;

/// One solution: variable name to its value. Unbound (OPTIONAL) variables are absent.
pub type Row = HashMap<String, Term>;

/// An RDF term of a solution.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Term {
    /// `uri`, `literal`, `bnode` (or `typed-literal` from older servers).
    #[serde(rename = "type")]
    pub kind: String,
    /// The IRI or the literal's lexical form.
    pub value: String,
    /// A literal's datatype IRI (e.g. xsd:dateTime), if typed.
    #[serde(default)]
    pub datatype: Option<String>,
    /// A literal's language tag, if any.
    #[serde(default, rename = "xml:lang")]
    pub lang: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Results {
    bindings: Vec<Row>,
}

#[derive(Debug, Deserialize)]
struct Document {
    results: Results,
}

/// Reads a SPARQL JSON results document into its rows. `what` names the query in errors.
pub fn parse_results(what: &str, body: &[u8]) -> Result<Vec<Row>, WikidataError> {
    serde_json::from_slice::<Document>(body)
        .map(|d| d.results.bindings)
        .map_err(|e| WikidataError::Format {
            id: what.to_string(),
            message: format!("not SPARQL JSON results: {e}"),
        })
}

/// A polite SPARQL client; share it by reference across concurrent queries.
pub struct SparqlClient {
    http: reqwest::Client,
    endpoint: url::Url,
    limit: Arc<Semaphore>,
    max_body: u64,
}

impl SparqlClient {
    /// A client for `endpoint` (the full URL queries are sent to).
    pub fn new(
        endpoint: &url::Url,
        user_agent: &str,
        timeout: Duration,
        max_body: u64,
    ) -> Result<SparqlClient, WikidataError> {
        let http = super::client::http_client(endpoint, user_agent, timeout)?;
        Ok(SparqlClient {
            http,
            endpoint: endpoint.clone(),
            limit: Arc::new(Semaphore::new(MAX_CONCURRENT)),
            max_body,
        })
    }

    /// The GET URL of `query`: the endpoint with `query` and `format=json` appended.
    pub fn query_url(&self, query: &str) -> url::Url {
        let mut url = self.endpoint.clone();
        url.query_pairs_mut()
            .append_pair("query", query)
            .append_pair("format", "json");
        url
    }

    /// Runs `query` (named `what` in errors and logs) and returns its rows.
    pub async fn select(&self, what: &str, query: &str) -> Result<Vec<Row>, WikidataError> {
        let url = self.query_url(query);
        // Errors name the endpoint and the query's name, not the whole encoded query.
        let shown = format!("{} ({what} query)", self.endpoint);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let permit = self
                .limit
                .acquire()
                .await
                .map_err(|e| WikidataError::Request {
                    url: shown.clone(),
                    message: e.to_string(),
                })?;
            let request = if url.as_str().len() <= MAX_GET_URL {
                self.http.get(url.clone())
            } else {
                let mut base = url.clone();
                base.set_query(None);
                self.http
                    .post(base)
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(url.query().unwrap_or_default().to_string())
            };
            let response = request
                .header(ACCEPT, RESULTS_JSON)
                .send()
                .await
                .map_err(|e| WikidataError::Request {
                    url: shown.clone(),
                    message: e.to_string(),
                })?;
            let status = response.status();
            if status.is_success() {
                let body = read_body(&shown, response, self.max_body).await?;
                return parse_results(what, &body);
            }
            let wait = wait_before_retry(&shown, status, &response, attempt)?;
            drop(permit);
            tracing::info!(endpoint = %self.endpoint, query = what, status = status.as_u16(), wait_secs = wait.as_secs(), "The SPARQL endpoint asked to wait; retrying.");
            tokio::time::sleep(wait).await;
        }
    }
}

/// The item id at the end of an entity IRI (`http://www.wikidata.org/entity/Q42` → `Q42`);
/// `None` for anything else (a blank node, a statement, a property).
pub fn item_id(term: &Term) -> Option<String> {
    if term.kind != "uri" {
        return None;
    }
    let id = term.value.rsplit('/').next()?;
    crate::config::is_wikidata_id(id).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_w3c_results_with_unbound_variables() {
        // The W3C results format is the contract; OPTIONAL variables may be absent.
        let body = br#"{"head":{"vars":["person","personLabel","end"]},
          "results":{"bindings":[
            {"person":{"type":"uri","value":"http://www.wikidata.org/entity/Q42"},
             "personLabel":{"type":"literal","xml:lang":"en","value":"Ann"},
             "end":{"type":"literal","datatype":"http://www.w3.org/2001/XMLSchema#dateTime","value":"2020-01-01T00:00:00Z"}},
            {"person":{"type":"uri","value":"http://www.wikidata.org/entity/Q43"}}]}}"#;
        let rows = parse_results("test", body).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(item_id(&rows[0]["person"]).as_deref(), Some("Q42"));
        assert_eq!(rows[0]["personLabel"].lang.as_deref(), Some("en"));
        assert!(!rows[1].contains_key("end"));
        assert!(parse_results("test", b"<html>").is_err());
    }

    #[test]
    fn item_ids_come_only_from_entity_iris() {
        // A literal or statement IRI must not become an actor's `wikidata` id.
        let uri = |v: &str| Term {
            kind: "uri".into(),
            value: v.into(),
            datatype: None,
            lang: None,
        };
        assert_eq!(
            item_id(&uri("http://www.wikidata.org/entity/Q7")).as_deref(),
            Some("Q7")
        );
        assert_eq!(
            item_id(&uri("http://www.wikidata.org/entity/statement/Q7-abc")),
            None
        );
        assert_eq!(item_id(&uri("http://www.wikidata.org/entity/P39")), None);
        let literal = Term {
            kind: "literal".into(),
            ..uri("Q7")
        };
        assert_eq!(item_id(&literal), None);
    }

    #[tokio::test]
    async fn long_queries_are_posted_as_a_form() {
        // A GET URL of many kilobytes is refused by servers and proxies; the protocol
        // allows the same parameters as a form body.
        use axum::routing::{get, post};
        let app = axum::Router::new()
            .route("/sparql", get(|| async { "not JSON" }))
            .route(
                "/sparql",
                post(|body: String| async move {
                    let pairs: HashMap<String, String> =
                        url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
                    assert_eq!(pairs["format"], "json");
                    format!(
                        r#"{{"head":{{"vars":["n"]}},"results":{{"bindings":[{{"n":{{"type":"literal","value":"{}"}}}}]}}}}"#,
                        pairs["query"].len()
                    )
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let endpoint = url::Url::parse(&format!("http://{addr}/sparql")).unwrap();
        let c = SparqlClient::new(&endpoint, "t", Duration::from_secs(10), 1 << 20).unwrap();
        let long = format!(
            "SELECT ?n WHERE {{ VALUES ?n {{ {} }} }}",
            "\"XX\" ".repeat(1000)
        );
        let rows = c.select("long", &long).await.unwrap();
        assert_eq!(rows[0]["n"].value, long.len().to_string());
        assert!(
            c.select("short", "SELECT ?n WHERE {}").await.is_err(),
            "short ones are GET"
        );
    }

    #[test]
    fn queries_are_sent_as_query_and_format_parameters() {
        // The Query Service documents GET with `query=`; `format=json` picks the JSON results.
        let endpoint = url::Url::parse("http://127.0.0.1:1/sparql").unwrap();
        let c = SparqlClient::new(&endpoint, "t", Duration::from_secs(1), 10).unwrap();
        let url = c.query_url("SELECT ?x WHERE { ?x ?p ?o }");
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(
            pairs,
            vec![
                ("query".into(), "SELECT ?x WHERE { ?x ?p ?o }".into()),
                ("format".into(), "json".into())
            ]
        );
        assert_eq!(url.path(), "/sparql");
    }
}
