//! CloudWatch Embedded Metric Format: each [`Measurement`] becomes one JSON line on standard
//! output, which CloudWatch Logs turns into metrics (no API call, no latency on the request).
//!
//! ```json
//! {"_aws":{"Timestamp":1796000000000,"CloudWatchMetrics":[{"Namespace":"ServiceGateway",
//!   "Dimensions":[["Company","Channel","Result"],["Channel","Result"]],
//!   "Metrics":[{"Name":"Deliveries","Unit":"Count"}]}]},
//!  "Company":"nordit-hannover","Channel":"email","Result":"sent","Deliveries":1}
//! ```
//!
//! A measurement with a company is published twice, per company and in the aggregate over all
//! companies (the alarms' view); one without a company only in the aggregate. Dimensions are
//! bounded (company, channel, result): call ids never become dimensions.

use std::sync::{Arc, Mutex};

use gateway_domain::metrics::{Measurement, MetricSink, NoMetrics, dimensions};
use serde_json::{Map, Value, json};

/// The CloudWatch namespace of every gateway metric (template.yaml's dashboard and alarms).
pub const NAMESPACE: &str = "ServiceGateway";

type Line = Arc<dyn Fn(String) + Send + Sync>;

/// Writes measurements as EMF lines.
#[derive(Clone)]
pub struct Emf {
    write: Line,
    /// Milliseconds since the epoch (a fixed clock in tests).
    now_ms: Arc<dyn Fn() -> i64 + Send + Sync>,
}

impl Emf {
    /// To standard output (in Lambda: CloudWatch Logs).
    pub fn stdout() -> Self {
        Self {
            write: Arc::new(|line| println!("{line}")),
            now_ms: Arc::new(now_ms),
        }
    }

    /// Into memory, for tests: the sink and the lines it wrote.
    pub fn captured() -> (Self, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let into = lines.clone();
        let emf = Self {
            write: Arc::new(move |line| into.lock().unwrap_or_else(|p| p.into_inner()).push(line)),
            now_ms: Arc::new(now_ms),
        };
        (emf, lines)
    }

    /// The EMF document of one measurement.
    pub fn line(measurement: &Measurement, timestamp_ms: i64) -> Value {
        let mut root = Map::new();
        let mut own: Vec<&str> = Vec::new();
        for (name, value) in &measurement.dimensions {
            root.insert((*name).to_string(), Value::String(value.clone()));
            own.push(name);
        }
        let mut sets = Vec::new();
        if let Some(company) = &measurement.company {
            root.insert(dimensions::COMPANY.into(), Value::String(company.to_string()));
            let mut with_company = vec![dimensions::COMPANY];
            with_company.extend(own.iter().copied());
            sets.push(with_company);
        }
        sets.push(own);
        root.insert(measurement.name.into(), json!(measurement.value));
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": sets,
                    "Metrics": [{"Name": measurement.name, "Unit": measurement.unit.as_str()}],
                }],
            }),
        );
        Value::Object(root)
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

impl MetricSink for Emf {
    fn put(&self, measurements: &[Measurement]) {
        let now = (self.now_ms)();
        for m in measurements {
            (self.write)(Emf::line(m, now).to_string());
        }
    }
}

/// The sink a function uses: EMF on standard output in Lambda (or with `GATEWAY_METRICS=emf`),
/// nothing elsewhere (`make run` keeps its terminal readable; `GATEWAY_METRICS=off` silences it).
pub fn from_env() -> Arc<dyn MetricSink> {
    let setting = std::env::var("GATEWAY_METRICS").unwrap_or_default();
    let in_lambda = std::env::var("AWS_LAMBDA_FUNCTION_NAME").is_ok();
    if setting == "emf" || (in_lambda && setting != "off") {
        Arc::new(Emf::stdout())
    } else {
        Arc::new(NoMetrics)
    }
}

/// Checks one line against the EMF specification's JSON schema (the rules that matter to
/// CloudWatch): `_aws.Timestamp` an integer of milliseconds; `_aws.CloudWatchMetrics` a non-empty
/// array of directives, each with a `Namespace` (1–255 characters), `Dimensions` (an array of
/// dimension sets of at most 30 names, each a string member at the top level) and `Metrics` (1–100
/// definitions with a `Name` of 1–255 characters, an optional standard `Unit`, and the value a
/// number, or an array of at most 100 numbers, at the top level). Returns every violation.
pub fn validate_line(line: &str) -> Vec<String> {
    const UNITS: &[&str] = &[
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    ];
    let mut errors = Vec::new();
    let root: Value = match serde_json::from_str(line) {
        Ok(Value::Object(o)) => Value::Object(o),
        Ok(_) => return vec!["not a JSON object".into()],
        Err(e) => return vec![format!("not JSON: {e}")],
    };
    let Some(aws) = root.get("_aws").and_then(Value::as_object) else {
        return vec!["_aws: required object".into()];
    };
    if !aws.get("Timestamp").is_some_and(|t| t.is_i64() || t.is_u64()) {
        errors.push("_aws.Timestamp: required integer (ms since epoch)".into());
    }
    let directives = match aws.get("CloudWatchMetrics").and_then(Value::as_array) {
        Some(d) if !d.is_empty() => d,
        _ => {
            errors.push("_aws.CloudWatchMetrics: required non-empty array".into());
            return errors;
        }
    };
    for (i, d) in directives.iter().enumerate() {
        let at = format!("_aws.CloudWatchMetrics[{i}]");
        match d.get("Namespace").and_then(Value::as_str) {
            Some(ns) if !ns.is_empty() && ns.len() <= 255 => {}
            _ => errors.push(format!("{at}.Namespace: required string of 1-255 characters")),
        }
        match d.get("Dimensions").and_then(Value::as_array) {
            Some(sets) => {
                for (j, set) in sets.iter().enumerate() {
                    let Some(names) = set.as_array().filter(|n| n.len() <= 30) else {
                        errors.push(format!("{at}.Dimensions[{j}]: an array of at most 30 names"));
                        continue;
                    };
                    for name in names {
                        match name.as_str() {
                            Some(n) if root.get(n).is_some_and(Value::is_string) => {}
                            _ => errors.push(format!(
                                "{at}.Dimensions[{j}]: {name} is not a string member at the top level"
                            )),
                        }
                    }
                }
            }
            None => errors.push(format!("{at}.Dimensions: required array of dimension sets")),
        }
        match d.get("Metrics").and_then(Value::as_array) {
            Some(metrics) if !metrics.is_empty() && metrics.len() <= 100 => {
                for (j, m) in metrics.iter().enumerate() {
                    let Some(name) = m
                        .get("Name")
                        .and_then(Value::as_str)
                        .filter(|n| !n.is_empty() && n.len() <= 255)
                    else {
                        errors.push(format!("{at}.Metrics[{j}].Name: required string of 1-255 characters"));
                        continue;
                    };
                    if let Some(unit) = m.get("Unit")
                        && !unit.as_str().is_some_and(|u| UNITS.contains(&u))
                    {
                        errors.push(format!("{at}.Metrics[{j}].Unit: {unit} is not a CloudWatch unit"));
                    }
                    let value_ok = match root.get(name) {
                        Some(Value::Number(_)) => true,
                        Some(Value::Array(values)) => values.len() <= 100 && values.iter().all(Value::is_number),
                        _ => false,
                    };
                    if !value_ok {
                        errors.push(format!("{name}: the metric's value must be a top-level number"));
                    }
                }
            }
            _ => errors.push(format!("{at}.Metrics: required array of 1-100 metric definitions")),
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_domain::ids::CompanyId;
    use gateway_domain::metrics::{Unit, names};

    #[test]
    fn every_shape_of_line_is_valid_emf_and_company_is_the_only_tenant_dimension() {
        let (emf, lines) = Emf::captured();
        let company = CompanyId::new("nordit-hannover");
        emf.put(&[
            Measurement::one(names::CASES_CAPTURED, Some(&company)),
            Measurement::one(names::UNROUTED_EVENTS, None),
            Measurement::one(names::DELIVERIES, Some(&company))
                .with(dimensions::CHANNEL, "email")
                .with(dimensions::RESULT, "sent"),
            Measurement {
                name: names::WEBHOOK_DURATION,
                unit: Unit::Milliseconds,
                value: 12.5,
                company: None,
                dimensions: vec![],
            },
        ]);
        let lines = lines.lock().unwrap().clone();
        assert_eq!(lines.len(), 4);
        for line in &lines {
            assert_eq!(validate_line(line), Vec::<String>::new(), "{line}");
            assert!(!line.contains('\n'), "one line per document");
        }
        let delivery: Value = serde_json::from_str(&lines[2]).unwrap();
        assert_eq!(
            delivery["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Company", "Channel", "Result"], ["Channel", "Result"]])
        );
        assert_eq!(delivery["Deliveries"], 1.0);
        assert_eq!(delivery["Company"], "nordit-hannover");
        let unrouted: Value = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(unrouted["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([[]]));
        assert_eq!(unrouted["_aws"]["CloudWatchMetrics"][0]["Namespace"], NAMESPACE);
    }

    #[test]
    fn the_validator_finds_what_the_schema_forbids() {
        let ok = r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["A"]],"Metrics":[{"Name":"M","Unit":"Count"}]}]},"A":"x","M":1}"#;
        assert!(validate_line(ok).is_empty());
        for (bad, why) in [
            (r#"{"M":1}"#, "_aws"),
            (
                r#"{"_aws":{"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[],"Metrics":[{"Name":"M"}]}]},"M":1}"#,
                "Timestamp",
            ),
            (
                r#"{"_aws":{"Timestamp":"1","CloudWatchMetrics":[{"Namespace":"N","Dimensions":[],"Metrics":[{"Name":"M"}]}]},"M":1}"#,
                "Timestamp",
            ),
            (
                r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]},"M":1}"#,
                "CloudWatchMetrics",
            ),
            (
                r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Dimensions":[],"Metrics":[{"Name":"M"}]}]},"M":1}"#,
                "Namespace",
            ),
            (
                r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Metrics":[{"Name":"M"}]}]},"M":1}"#,
                "Dimensions",
            ),
            (
                r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["A"]],"Metrics":[{"Name":"M"}]}]},"M":1}"#,
                "is not a string member",
            ),
            (
                r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[],"Metrics":[]}]},"M":1}"#,
                "Metrics",
            ),
            (
                r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[],"Metrics":[{"Name":"M"}]}]}}"#,
                "top-level number",
            ),
            (
                r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[],"Metrics":[{"Name":"M","Unit":"Calls"}]}]},"M":1}"#,
                "Unit",
            ),
        ] {
            let errors = validate_line(bad);
            assert!(errors.iter().any(|e| e.contains(why)), "{bad}: {errors:?}");
        }
    }
}
