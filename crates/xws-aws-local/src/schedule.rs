//! EventBridge schedules: a function invoked at a fixed rate with the
//! `Scheduled Event` payload EventBridge sends (asynchronously, as AWS
//! does), through the same Lambda endpoint as the other functions.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use std::{str::FromStr, sync::Arc, time::Duration};

use crate::{Emulator, Stats, invoke::invoke};

/// One schedule: `function` every `every` (an EventBridge `rate(…)` rule).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The function's name at the Lambda endpoint (`tick`).
    pub function: String,
    /// The rate.
    pub every: Duration,
}

/// Why a `--schedule` argument is not `NAME=RATE`.
#[derive(Debug, thiserror::Error)]
#[error("expected FUNCTION=RATE (e.g. tick=2s), got {0:?}")]
pub struct BadSchedule(String);

impl FromStr for Schedule {
    type Err = BadSchedule;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadSchedule(text.to_owned());
        let (function, rate) = text.split_once('=').ok_or_else(bad)?;
        let every = humantime::parse_duration(rate).map_err(|_| bad())?;
        if function.is_empty() || every.is_zero() {
            return Err(bad());
        }
        Ok(Self {
            function: function.to_owned(),
            every,
        })
    }
}

/// The event EventBridge delivers for a scheduled rule named after the
/// function (`{function}-schedule`).
pub fn scheduled_event(function: &str) -> Value {
    let time = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
    json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": time.to_string(),
        "region": "us-east-1",
        "resources": [format!("arn:aws:events:us-east-1:000000000000:rule/{function}-schedule")],
        "detail": {},
    })
}

fn invoke_url(emulator: &Emulator, function: &str) -> String {
    format!(
        "{}/2015-03-31/functions/{function}/invocations",
        emulator.config.lambda_origin()
    )
}

/// Invokes the function with a fresh scheduled event and returns its answer.
async fn fire(emulator: &Emulator, function: &str) -> Result<Value, crate::invoke::InvokeError> {
    Stats::bump(&emulator.stats.scheduled);
    let event = scheduled_event(function);
    invoke(&emulator.client, &invoke_url(emulator, function), &event).await
}

/// Fires `schedule` at its rate, forever; the first run is one period in.
pub(crate) async fn run(emulator: Arc<Emulator>, schedule: Schedule) {
    let mut ticks =
        tokio::time::interval_at(tokio::time::Instant::now() + schedule.every, schedule.every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        // Like EventBridge, a slow run does not hold back the next one.
        let (emulator, function) = (emulator.clone(), schedule.function.clone());
        tokio::spawn(async move {
            if let Err(error) = fire(&emulator, &function).await {
                tracing::error!(%error, function, "scheduled invocation failed");
            }
        });
    }
}

/// `POST /@xws/schedules/{function}`: one scheduled event now, answering
/// the function's result (502 if it failed).
pub(crate) async fn trigger(
    State(emulator): State<Arc<Emulator>>,
    Path(function): Path<String>,
) -> Response {
    match fire(&emulator, &function).await {
        Ok(answer) => axum::Json(answer).into_response(),
        Err(error) => (StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_parse_from_name_and_rate() {
        let schedule: Schedule = "tick=2s".parse().unwrap();
        assert_eq!(schedule.function, "tick");
        assert_eq!(schedule.every, Duration::from_secs(2));
        assert!("tick".parse::<Schedule>().is_err());
        assert!("=2s".parse::<Schedule>().is_err());
        assert!("tick=0s".parse::<Schedule>().is_err());
    }

    #[test]
    fn the_event_has_eventbridge_shape() {
        let event = scheduled_event("tick");
        assert_eq!(event["detail-type"], "Scheduled Event");
        assert_eq!(event["source"], "aws.events");
        assert!(event["time"].as_str().unwrap().ends_with('Z'));
        assert!(
            event["resources"][0]
                .as_str()
                .unwrap()
                .ends_with("rule/tick-schedule")
        );
    }
}
