//! `make demo-appointment`: one phone conversation with the example practice, played against a
//! running `make run` through the same signed custom-function calls Retell makes. Another caller
//! takes the wished time first, so the conversation goes: check → taken (alternatives) → book an
//! alternative → the confirmation e-mail with its `.ics` (read back from the emulator's SES) →
//! move → cancel. Each step prints what the caller says, the call, and what the agent says.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use gateway_domain::capture::retell::signature;
use serde_json::{Value, json};

use crate::BoxError;

/// The example practice's agent (`infra/tenants/praxis.yaml`).
const AGENT: &str = "agent_2b7d4e91c0a6483f9e5d17c3a8";
const PRACTICE_NUMBER: &str = "+4951138872640";

struct Conversation {
    url: String,
    api_key: String,
    call_id: String,
    number: String,
    http: reqwest::Client,
}

impl Conversation {
    async fn call(&self, said: &str, name: &str, args: Value) -> Result<Value, BoxError> {
        if !said.is_empty() {
            println!("\nAnrufer: „{said}“");
        }
        let body = json!({
            "name": name,
            "args": args,
            "call": {"call_id": self.call_id, "agent_id": AGENT, "call_status": "ongoing", "direction": "inbound",
                     "from_number": self.number, "to_number": PRACTICE_NUMBER}
        })
        .to_string();
        let now_ms = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or_default();
        let sig = signature::sign(&self.api_key, body.as_bytes(), now_ms);
        println!("  → {name} {args}");
        let started = Instant::now();
        let resp = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("x-retell-signature", sig)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("is the gateway running (`make run`)? {e}"))?;
        let status = resp.status();
        let answer: Value = resp.json().await?;
        if !status.is_success() {
            return Err(format!("{name} answered {status}: {answer}").into());
        }
        println!(
            "  ← {} in {} ms",
            answer["status"].as_str().unwrap_or("?"),
            started.elapsed().as_millis()
        );
        println!("Agent:   „{}“", answer["message"].as_str().unwrap_or_default());
        Ok(answer)
    }
}

fn number(suffix: u32) -> String {
    format!("+49511876{suffix:05}")
}

/// Plays the conversation against `http://127.0.0.1:{port}`; `env` is `.local/run.env`.
pub async fn run(port: u16, env: &HashMap<String, String>) -> Result<(), BoxError> {
    let get = |k: &str| {
        env.get(k)
            .cloned()
            .ok_or_else(|| format!("{k} missing from .local/run.env"))
    };
    let api_key = get("RETELL_API_KEY")?;
    let endpoint = get("AWS_ENDPOINT_URL")?;
    let run = ulid::Ulid::new().to_string().to_lowercase();
    let seed = u32::from_str_radix(&run[run.len() - 4..], 32).unwrap_or(0) % 90_000;
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/retell/functions");
    let caller = Conversation {
        url: url.clone(),
        api_key: api_key.clone(),
        call_id: format!("call_demo_booking_{run}"),
        number: number(seed),
        http: http.clone(),
    };
    let other = Conversation {
        call_id: format!("call_demo_other_{run}"),
        number: number(seed + 1),
        ..Conversation {
            url,
            api_key,
            call_id: String::new(),
            number: String::new(),
            http,
        }
    };
    let email = format!("demo.{}@patient.example", &run[run.len() - 6..]);
    let wish = json!({"dienstleistung": "Erstberatung", "datum": "nächsten Donnerstag", "uhrzeit": "halb drei"});

    println!("Another caller ({}) books next Thursday at 14:30 first:", other.number);
    let mut booked = wish.clone();
    booked["customer_name"] = json!("Erika Muster");
    other.call("", "book_appointment", booked).await?;

    println!("\n— The conversation, caller {} —", caller.number);
    caller
        .call(
            "Ich hätte gern einen Termin für eine Erstberatung, nächsten Donnerstag um halb drei.",
            "check_availability",
            wish.clone(),
        )
        .await?;
    let alternatives = caller
        .call("Was hätten Sie denn sonst?", "get_alternatives", wish.clone())
        .await?;
    let Some(choice) = alternatives["offers"][0]["local_start"].as_str().map(str::to_string) else {
        println!("\n(no alternatives offered; the demo stops here)");
        return Ok(());
    };
    let spoken = alternatives["offers"][0]["spoken"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let booked = caller
        .call(
            &format!("Dann nehme ich {spoken}. Jonas Weber, und die Bestätigung bitte an {email}."),
            "book_appointment",
            json!({"dienstleistung": "Erstberatung", "datetime": choice, "customer_name": "Jonas Weber",
                   "customer_email": email}),
        )
        .await?;
    // Taken meanwhile (another demo run on the same stack booked it): the agent offers the first
    // of the fresh alternatives, and the caller takes it.
    let booked = match booked["offers"][0]["local_start"].as_str() {
        Some(next) if booked["status"] == "taken" => {
            let spoken = booked["offers"][0]["spoken"].as_str().unwrap_or_default().to_string();
            caller
                .call(
                    &format!("Gut, dann {spoken}."),
                    "book_appointment",
                    json!({"dienstleistung": "Erstberatung", "datetime": next, "customer_name": "Jonas Weber",
                           "customer_email": email}),
                )
                .await?
        }
        _ => booked,
    };
    if booked["status"] != "booked" {
        println!("\n(no booking; the demo stops here)");
        return Ok(());
    }
    let id = booked["appointment"]["appointment_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    show_confirmation(&endpoint, &email, 1).await;

    caller
        .call(
            "Kann ich den Termin auf nächsten Freitag um 10 Uhr verschieben?",
            "reschedule_appointment",
            json!({"appointment_id": id, "new_datum": "nächsten Freitag", "new_uhrzeit": "10 Uhr"}),
        )
        .await?;
    caller
        .call(
            "Ja, bitte.",
            "reschedule_appointment",
            json!({"appointment_id": id, "new_datum": "nächsten Freitag", "new_uhrzeit": "10 Uhr", "bestaetigung": true}),
        )
        .await?;
    show_confirmation(&endpoint, &email, 2).await;

    let cancel = caller
        .call(
            "Ach, ich muss doch absagen, ich bin krank.",
            "cancel_appointment",
            json!({"appointment_id": id, "reason": "krank"}),
        )
        .await?;
    if cancel["status"] == "confirm_fee" {
        caller
            .call(
                "Ja, trotzdem absagen.",
                "cancel_appointment",
                json!({"appointment_id": id, "reason": "krank", "bestaetigung": true}),
            )
            .await?;
    }
    show_confirmation(&endpoint, &email, 3).await;
    println!(
        "\nAppointment {id}: every change above is stored with it and as an event of the call; the \
         practice's upcoming appointments are on the console's dashboard."
    );
    Ok(())
}

/// Waits (up to 30 s) for the `n`-th e-mail to `to` in the emulator's SES and prints its subject,
/// its first lines and the `.ics` lines that matter.
async fn show_confirmation(endpoint: &str, to: &str, n: usize) {
    let started = Instant::now();
    loop {
        let raws = match reqwest::get(format!("{endpoint}/moto-api/data.json")).await {
            Ok(resp) => crate::mail::raw_messages_to(&resp.json().await.unwrap_or_default(), to),
            Err(_) => Vec::new(),
        };
        if raws.len() >= n {
            let mail = crate::mail::read(&raws[n - 1]);
            println!("\n  E-mail to {to}: {}", mail.subject);
            for line in mail.text.lines().filter(|l| !l.trim().is_empty()).take(4) {
                println!("    | {}", line.trim());
            }
            // The message's METHOD and the event (not the time zone's transitions).
            let event = mail.calendar.find("BEGIN:VEVENT").map_or("", |i| &mail.calendar[i..]);
            let method = mail.calendar.lines().filter(|l| l.starts_with("METHOD"));
            for line in method.chain(event.lines()).filter(|l| {
                ["METHOD", "UID", "SEQUENCE", "DTSTART", "DTEND", "STATUS"]
                    .iter()
                    .any(|k| l.starts_with(k))
            }) {
                println!("    .ics  {line}");
            }
            return;
        }
        if started.elapsed() > Duration::from_secs(30) {
            println!("\n  (no e-mail #{n} to {to} within 30 s: is the deliver consumer running?)");
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
