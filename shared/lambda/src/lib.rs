//! The Lambda edge every function shares: the SQS batch skeleton, the queue operations it needs,
//! and the invocation's deadline taken from the Lambda context.

pub mod batch;
pub mod metrics;
pub mod sqs_control;
#[cfg(feature = "testing")]
pub mod testing;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gateway_domain::deadline::Deadline;

/// A function's time budget: its timeout (as in `template.yaml`, and applied by the local stack),
/// the margin kept back to record an outcome, and the budget of each kind of outbound call. A
/// test checks the template against these, and that the longest call fits.
#[derive(Debug, Clone, Copy)]
pub struct TimeBudget {
    pub function_timeout: Duration,
    pub margin: Duration,
    pub calls: &'static [(&'static str, Duration)],
}

impl TimeBudget {
    pub fn longest_call(&self) -> Duration {
        self.calls.iter().map(|(_, d)| *d).max().unwrap_or_default()
    }

    /// Whether the longest outbound call plus the margin fits in the function's timeout.
    pub fn fits(&self) -> bool {
        self.longest_call() + self.margin <= self.function_timeout
    }

    /// The deadline of an invocation with `context`.
    pub fn deadline(&self, context: &lambda_runtime::Context) -> Deadline {
        invocation_deadline(context, self.function_timeout, self.margin)
    }
}

/// The invocation's deadline minus `margin`. Lambda's context carries it (epoch milliseconds);
/// where it is absent (the local stack, tests) the function's own timeout from now applies, so
/// local runs stop work when Lambda would.
pub fn invocation_deadline(
    context: &lambda_runtime::Context,
    function_timeout: Duration,
    margin: Duration,
) -> Deadline {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let left = match context.deadline {
        0 => function_timeout,
        deadline_ms => Duration::from_millis(deadline_ms.saturating_sub(now_ms)),
    };
    Deadline::after(left).minus(margin)
}

/// A Lambda context as the local stack hands it over: the deadline a function of `timeout` gets.
pub fn local_context(timeout: Duration) -> lambda_runtime::Context {
    let mut context = lambda_runtime::Context::default();
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    context.deadline = now_ms + timeout.as_millis() as u64;
    context
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_comes_from_the_context_else_the_timeout() {
        let margin = Duration::from_secs(2);
        let d = invocation_deadline(&local_context(Duration::from_secs(10)), Duration::from_secs(60), margin);
        assert!(d.remaining() <= Duration::from_secs(8) && d.remaining() > Duration::from_secs(7));
        let d = invocation_deadline(&lambda_runtime::Context::default(), Duration::from_secs(30), margin);
        assert!(d.remaining() <= Duration::from_secs(28) && d.remaining() > Duration::from_secs(27));
    }
}
