//! The hot path of one availability check: parse what the caller said, then answer it from one
//! 14-day fetch of 15-minute slots (08:00–18:00 every day: 560 slots). Prints the medians at the end.

use std::hint::black_box;
use std::path::PathBuf;

use chrono::{DateTime, TimeDelta, Utc};
use criterion::Criterion;
use gateway_domain::appointments::{
    BranchCalendar, SearchPolicy, ServiceRules, Slot, Span, find_alternatives, free_slots, parse_wish,
};

const EXPRESSIONS: [(&str, &str); 5] = [
    ("morgen nachmittag", ""),
    ("Dienstag", "halb drei"),
    ("nächste Woche Donnerstag", "10 Uhr"),
    ("12.3.", "14:30"),
    ("übermorgen", "ab 14 Uhr"),
];

fn calendar() -> BranchCalendar {
    let day = serde_json::json!(["08:00-18:00"]);
    serde_json::from_value(serde_json::json!({
        "opening_hours": {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day}
    }))
    .expect("valid calendar")
}

fn now() -> DateTime<Utc> {
    "2026-12-01T06:00:00Z".parse().expect("valid instant") // Tuesday 07:00 in Berlin
}

/// 560 free 15-minute slots over 14 days, minus the wished 14:30 on Wednesday.
fn slots(cal: &BranchCalendar) -> Vec<Slot> {
    let range = Span::new(now(), now() + TimeDelta::days(14)).expect("valid range");
    let rules = ServiceRules::new(TimeDelta::minutes(15));
    let mut slots = free_slots(range, cal, &rules, &[], now()).expect("valid rules");
    assert_eq!(slots.len(), 560, "14 days x 40 starts");
    let taken: DateTime<Utc> = "2026-12-02T13:30:00Z".parse().expect("valid instant");
    slots.retain(|s| s.start != taken);
    slots
}

fn parse_all(cal: &BranchCalendar) -> usize {
    EXPRESSIONS
        .iter()
        .filter(|(d, t)| parse_wish(Some(d), (!t.is_empty()).then_some(*t), now(), cal).is_ok())
        .count()
}

fn bench(c: &mut Criterion) {
    let cal = calendar();
    let slots = slots(&cal);
    let policy = SearchPolicy::default();
    let wish = parse_wish(Some("morgen"), Some("halb drei"), now(), &cal).expect("understood");

    c.bench_function("parse_5_expressions", |b| b.iter(|| parse_all(black_box(&cal))));
    c.bench_function("alternatives_560_slots", |b| {
        b.iter(|| find_alternatives(black_box(&wish), black_box(&slots), &cal, now(), &policy, None))
    });
    c.bench_function("parse_and_alternatives", |b| {
        b.iter(|| {
            let wish = parse_wish(Some(black_box("morgen")), Some(black_box("halb drei")), now(), &cal);
            wish.map(|w| find_alternatives(&w, black_box(&slots), &cal, now(), &policy, None))
        })
    });
}

/// Criterion's output folder: `$CRITERION_HOME`, else `<target>/criterion` next to this binary.
fn criterion_dir() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return Some(PathBuf::from(home));
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(target).join("criterion"));
    }
    let exe = std::env::current_exe().ok()?;
    Some(exe.ancestors().nth(3)?.join("criterion")) // <target>/release/deps/<bench>
}

fn print_medians() {
    let Some(dir) = criterion_dir() else { return };
    for id in [
        "parse_5_expressions",
        "alternatives_560_slots",
        "parse_and_alternatives",
    ] {
        let path = dir.join(id).join("new").join("estimates.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        if let Some(ns) = json["median"]["point_estimate"].as_f64() {
            println!("median {id}: {:.2} µs", ns / 1000.0);
        }
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    print_medians();
}
