//! `calcom-standin [--port N] [--seed FILE]`: serve the stand-in on 127.0.0.1 until killed.
//! Without a seed it offers one event type (1001, 30 min, Mon–Fri 09–17 Europe/Berlin).

use calcom_standin::{Config, EventType, Standin};

fn usage() -> ! {
    eprintln!("usage: calcom-standin [--port N] [--seed FILE]");
    std::process::exit(2)
}

fn parse_args() -> (u16, Option<String>) {
    let mut port = 0;
    let mut seed = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => port = args.next().and_then(|p| p.parse().ok()).unwrap_or_else(|| usage()),
            "--seed" => seed = Some(args.next().unwrap_or_else(|| usage())),
            _ => usage(),
        }
    }
    (port, seed)
}

#[tokio::main]
async fn main() {
    let (port, seed) = parse_args();
    let config = match seed {
        Some(path) => Config::from_file(&path),
        None => Ok(Config::default().with_event_type(EventType::new(1001, "beratung-30", 30).titled("Beratung"))),
    };
    let running = match config {
        Ok(config) => Standin::start(Config { port, ..config }).await,
        Err(e) => Err(e),
    };
    match running {
        Ok(running) => {
            println!("calcom-standin listening on {}", running.base_url());
            println!(
                "control: http://{}/_standin/{{bookings,requests,webhooks,faults}}",
                running.addr()
            );
            std::future::pending::<()>().await;
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
