//! Every command documents itself (`--help`), and bad arguments fail with a message.

use std::process::Command;

fn gatewayctl(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gatewayctl"))
        .args(args)
        .output()
        .expect("gatewayctl runs")
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["apply", "--help"],
        vec!["export", "--help"],
        vec!["customers", "--help"],
        vec!["customers", "import", "--help"],
        vec!["cases", "--help"],
        vec!["cases", "list", "--help"],
        vec!["cases", "show", "--help"],
        vec!["cases", "redeliver", "--help"],
        vec!["costs", "--help"],
        vec!["costs", "report", "--help"],
    ] {
        let out = gatewayctl(&args);
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage: gatewayctl"), "{args:?}: {text}");
    }
}

#[test]
fn missing_arguments_are_named() {
    let out = gatewayctl(&["apply"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--file"));
    let out = gatewayctl(&["cases", "list", "--company", "x", "--status", "weird"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value 'weird'"));
}
