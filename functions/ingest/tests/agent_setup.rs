//! The function definitions the README tells operators to paste into Retell: every one names a
//! function the gateway answers, and every parameter is one the gateway reads.

use gateway_domain::appointments::desk::args::is_known;
use gateway_domain::capture::Function;
use serde_json::Value;

/// The JSON code blocks of the README's "Set up the agent" section.
fn definitions() -> Vec<Value> {
    let readme = std::fs::read_to_string("../../README.md").expect("README.md");
    let start = readme.find("## Set up the agent").expect("the section");
    let section = section_from(&readme[start..]);
    section
        .split("```json\n")
        .skip(1)
        .map(|block| {
            let json = &block[..block.find("```").expect("closed block")];
            serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"))
        })
        .collect()
}

/// The text from a heading to the next one outside a code block (the German prompt snippet
/// has headings of its own; the subsections after the definitions show payloads, not tools).
fn section_from(text: &str) -> &str {
    let mut in_code = false;
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if i > 0 && !in_code && (line.starts_with("## ") || line.starts_with("### ")) {
            return &text[..offset];
        }
        offset += line.len();
    }
    text
}

#[test]
fn every_published_function_is_answered_and_every_parameter_is_read() {
    let defs = definitions();
    let mut names: Vec<&str> = defs.iter().map(|d| d["name"].as_str().expect("a name")).collect();
    for d in &defs {
        let name = d["name"].as_str().unwrap();
        let function = Function::from_name(name).unwrap_or_else(|| panic!("{name} is not answered"));
        assert!(!d["description"].as_str().unwrap_or_default().is_empty(), "{name}");
        assert_eq!(d["parameters"]["type"], "object", "{name}");
        let properties = d["parameters"]["properties"].as_object().expect("properties");
        for (param, schema) in properties {
            assert!(schema["type"].is_string(), "{name}.{param} has a type");
            if let Function::Booking(_) = function {
                assert!(is_known(param), "{name}: the gateway does not read `{param}`");
            }
        }
        for required in d["parameters"]["required"].as_array().into_iter().flatten() {
            assert!(
                properties.contains_key(required.as_str().unwrap()),
                "{name}: {required}"
            );
        }
    }
    names.sort();
    let mut expected: Vec<&str> = Function::supported()
        .into_iter()
        .filter(|n| *n != "finalize_ticket")
        .collect();
    expected.sort();
    assert_eq!(
        names, expected,
        "one definition per booking function and request_callback"
    );
}
