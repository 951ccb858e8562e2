//! The two renderings of the metrics: Prometheus text (exposition format
//! 0.0.4) and Vault's JSON (go-metrics' in-memory sink shape).

use std::fmt::Write;

use serde_json::{Value, json};

use super::Histogram;

/// What one series holds.
#[derive(Debug, Clone)]
pub(crate) enum Series {
    Counter(u64),
    Gauge(f64),
    Histogram(Histogram),
    /// A count and a sum without buckets (Prometheus' summary without quantiles).
    Summary {
        count: u64,
        sum: f64,
    },
}

/// One series: a name (without the `keyward_` prefix), its help text, labels, value.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    pub(crate) name: &'static str,
    pub(crate) help: &'static str,
    pub(crate) labels: Vec<(&'static str, String)>,
    pub(crate) value: Series,
}

impl Sample {
    pub(crate) fn counter(
        name: &'static str,
        help: &'static str,
        labels: Vec<(&'static str, String)>,
        n: u64,
    ) -> Self {
        Sample {
            name,
            help,
            labels,
            value: Series::Counter(n),
        }
    }
    pub(crate) fn gauge(
        name: &'static str,
        help: &'static str,
        labels: Vec<(&'static str, String)>,
        v: f64,
    ) -> Self {
        Sample {
            name,
            help,
            labels,
            value: Series::Gauge(v),
        }
    }
    pub(crate) fn histogram(
        name: &'static str,
        help: &'static str,
        labels: Vec<(&'static str, String)>,
        h: Histogram,
    ) -> Self {
        Sample {
            name,
            help,
            labels,
            value: Series::Histogram(h),
        }
    }
    pub(crate) fn summary(
        name: &'static str,
        help: &'static str,
        labels: Vec<(&'static str, String)>,
        count: u64,
        sum: f64,
    ) -> Self {
        Sample {
            name,
            help,
            labels,
            value: Series::Summary { count, sum },
        }
    }
}

/// A label value escaped as the exposition format wants it.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn labels(pairs: &[(&str, String)], extra: Option<(&str, String)>) -> String {
    let mut all: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    if let Some((k, v)) = extra {
        all.push(format!("{k}=\"{v}\""));
    }
    if all.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", all.join(","))
    }
}

fn number(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v}")
    }
}

/// Prometheus text: `# HELP` and `# TYPE` once per metric name, then its series.
pub(crate) fn prometheus(samples: &[Sample]) -> String {
    let mut out = String::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut order: Vec<&'static str> = Vec::new();
    for s in samples {
        if !order.contains(&s.name) {
            order.push(s.name);
        }
    }
    for name in order {
        for s in samples.iter().filter(|s| s.name == name) {
            let full = format!("keyward_{}", s.name);
            if !seen.contains(&s.name) {
                seen.push(s.name);
                let kind = match s.value {
                    Series::Counter(_) => "counter",
                    Series::Gauge(_) => "gauge",
                    Series::Histogram(_) => "histogram",
                    Series::Summary { .. } => "summary",
                };
                let _ = writeln!(out, "# HELP {full} {}", s.help);
                let _ = writeln!(out, "# TYPE {full} {kind}");
            }
            match &s.value {
                Series::Counter(n) => {
                    let _ = writeln!(out, "{full}{} {n}", labels(&s.labels, None));
                }
                Series::Gauge(v) => {
                    let _ = writeln!(out, "{full}{} {}", labels(&s.labels, None), number(*v));
                }
                Series::Histogram(h) => {
                    for (le, n) in h.cumulative() {
                        let _ = writeln!(
                            out,
                            "{full}_bucket{} {n}",
                            labels(&s.labels, Some(("le", number(le))))
                        );
                    }
                    let _ = writeln!(
                        out,
                        "{full}_bucket{} {}",
                        labels(&s.labels, Some(("le", "+Inf".into()))),
                        h.count
                    );
                    let _ = writeln!(
                        out,
                        "{full}_sum{} {}",
                        labels(&s.labels, None),
                        number(h.sum)
                    );
                    let _ = writeln!(out, "{full}_count{} {}", labels(&s.labels, None), h.count);
                }
                Series::Summary { count, sum } => {
                    let _ = writeln!(
                        out,
                        "{full}_sum{} {}",
                        labels(&s.labels, None),
                        number(*sum)
                    );
                    let _ = writeln!(out, "{full}_count{} {count}", labels(&s.labels, None));
                }
            }
        }
    }
    out
}

/// Vault's JSON: `Timestamp`, `Gauges`, `Points`, `Counters`, `Samples`,
/// names dotted (`keyward.http.request_duration_seconds`), labels as an
/// object. Counters carry their total in `Count` and `Sum`; histograms go
/// to `Samples` with count, sum, min, max and mean (in milliseconds, as
/// Vault's timers).
pub(crate) fn vault_json(samples: &[Sample], timestamp: &str) -> Value {
    let (mut gauges, mut counters, mut timers) = (Vec::new(), Vec::new(), Vec::new());
    for s in samples {
        let name = format!("keyward.{}", s.name.replacen('_', ".", 1));
        let labels: serde_json::Map<String, Value> = s
            .labels
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        match &s.value {
            Series::Gauge(v) => gauges.push(json!({"Name": name, "Value": v, "Labels": labels})),
            Series::Counter(n) => counters.push(json!({
                "Name": name, "Count": n, "Rate": 0.0, "Sum": *n as f64, "Min": 1.0, "Max": 1.0,
                "Mean": 1.0, "Stddev": 0.0, "Labels": labels,
            })),
            Series::Histogram(h) => timers.push(json!({
                "Name": name, "Count": h.count, "Rate": 0.0, "Sum": h.sum * 1000.0,
                "Min": h.min * 1000.0, "Max": h.max * 1000.0, "Mean": h.mean() * 1000.0,
                "Stddev": 0.0, "Labels": labels,
            })),
            Series::Summary { count, sum } => timers.push(json!({
                "Name": name, "Count": count, "Rate": 0.0, "Sum": sum * 1000.0,
                "Min": 0.0, "Max": 0.0,
                "Mean": if *count == 0 { 0.0 } else { sum * 1000.0 / *count as f64 },
                "Stddev": 0.0, "Labels": labels,
            })),
        }
    }
    json!({
        "Timestamp": timestamp,
        "Gauges": gauges,
        "Points": [],
        "Counters": counters,
        "Samples": timers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_text_has_one_help_per_name_and_cumulative_buckets() {
        let mut h = Histogram::default();
        h.observe(0.002);
        h.observe(0.3);
        let samples = vec![
            Sample::histogram(
                "http_request_duration_seconds",
                "Requests",
                vec![("family", "vault".into()), ("status", "200".into())],
                h.clone(),
            ),
            Sample::histogram(
                "http_request_duration_seconds",
                "Requests",
                vec![("family", "arango".into()), ("status", "404".into())],
                h,
            ),
            Sample::counter(
                "auth_attempts_total",
                "Auth",
                vec![("method", "basic".into()), ("outcome", "fail\"ure".into())],
                3,
            ),
            Sample::gauge("tokens", "Tokens", vec![], 12.0),
        ];
        let text = prometheus(&samples);
        assert_eq!(
            text.matches("# TYPE keyward_http_request_duration_seconds histogram")
                .count(),
            1
        );
        assert!(text.contains("keyward_http_request_duration_seconds_bucket{family=\"vault\",status=\"200\",le=\"0.005\"} 1\n"));
        assert!(text.contains("keyward_http_request_duration_seconds_bucket{family=\"vault\",status=\"200\",le=\"+Inf\"} 2\n"));
        assert!(text.contains(
            "keyward_http_request_duration_seconds_count{family=\"arango\",status=\"404\"} 2\n"
        ));
        assert!(
            text.contains(
                "keyward_auth_attempts_total{method=\"basic\",outcome=\"fail\\\"ure\"} 3\n"
            )
        );
        assert!(text.contains("# TYPE keyward_tokens gauge\nkeyward_tokens 12\n"));

        let json = vault_json(&samples, "2026-11-27 06:56:10 +0000 UTC");
        assert_eq!(json["Gauges"][0]["Name"], "keyward.tokens");
        assert_eq!(json["Counters"][0]["Count"], 3);
        assert_eq!(
            json["Samples"][0]["Name"],
            "keyward.http.request_duration_seconds"
        );
        assert_eq!(json["Samples"][0]["Count"], 2);
        assert_eq!(json["Samples"][0]["Labels"]["family"], "vault");
    }
}
