//! What one publication costs on AWS, from the calls counted locally and AWS's list prices.
//!
//! Prices are us-east-1 list prices (on-demand, no free tier, first pricing tier), from
//! [`PRICE_PAGES`]. The local stack counts calls exactly; it cannot say how long an
//! invocation takes on Lambda, so the caller gives a duration and says where it came from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// AWS's price pages the [`Prices::US_EAST_1`] values come from.
pub const PRICE_PAGES: [&str; 3] = [
    "https://aws.amazon.com/api-gateway/pricing/",
    "https://aws.amazon.com/lambda/pricing/",
    "https://aws.amazon.com/dynamodb/pricing/on-demand/",
];

/// US dollars per unit of what AWS bills.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prices {
    /// API Gateway WebSocket messages (received or sent, per 32 KB), per million.
    pub api_gateway_message_per_million: f64,
    /// API Gateway WebSocket connection minutes, per million.
    pub api_gateway_connection_minute_per_million: f64,
    /// Lambda requests, per million.
    pub lambda_request_per_million: f64,
    /// Lambda duration, per GB-second (x86_64).
    pub lambda_gb_second: f64,
    /// DynamoDB on-demand read request units, per million.
    pub dynamodb_read_unit_per_million: f64,
    /// DynamoDB on-demand write request units, per million.
    pub dynamodb_write_unit_per_million: f64,
}

impl Prices {
    /// us-east-1: WebSocket messages $1.00/M (first billion) and connection minutes $0.25/M;
    /// Lambda $0.20/M requests and $0.0000166667/GB-s (x86_64, first 6 billion GB-s);
    /// DynamoDB on-demand $0.125/M read and $0.625/M write request units (since the
    /// November 2024 price cut).
    pub const US_EAST_1: Self = Self {
        api_gateway_message_per_million: 1.00,
        api_gateway_connection_minute_per_million: 0.25,
        lambda_request_per_million: 0.20,
        lambda_gb_second: 0.000_016_666_7,
        dynamodb_read_unit_per_million: 0.125,
        dynamodb_write_unit_per_million: 0.625,
    };

    /// What one connection open for an hour costs in connection minutes.
    pub fn connection_hour_usd(&self) -> f64 {
        60.0 * self.api_gateway_connection_minute_per_million / 1e6
    }
}

/// The size of one subscription item the fan-out's `Query` reads (its key, the connection id
/// and two small attributes: under 100 bytes). DynamoDB bills a `Query` by the size of the
/// items it reads, 4 KB per read unit, whatever it projects.
pub const SUBSCRIPTION_ITEM_BYTES: u64 = 100;

/// Calls one publication made, averaged over a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PublicationCalls {
    /// API Gateway messages received (the `send-to-room`).
    pub inbound_messages: f64,
    /// `PostToConnection` calls (each an API Gateway message sent).
    pub post_to_connection: f64,
    /// Lambda invocations (the `$default` and any the function made).
    pub lambda_invocations: f64,
    /// DynamoDB read requests (`GetItem`, `Query`, `Scan`; a `BatchGetItem` per key).
    pub dynamodb_read_requests: f64,
    /// DynamoDB write requests (`PutItem`, `UpdateItem`, `DeleteItem`; a `BatchWriteItem`
    /// per item).
    pub dynamodb_write_requests: f64,
    /// Requests by DynamoDB operation.
    pub dynamodb_operations: BTreeMap<String, f64>,
}

/// Whether a DynamoDB operation reads or writes, and how many request units a call of it
/// counts as before item sizes: `None` for one that is not billed per request (table
/// management).
pub fn dynamodb_kind(operation: &str) -> Option<Kind> {
    match operation {
        "GetItem" | "Query" | "Scan" | "BatchGetItem" | "TransactGetItems" => Some(Kind::Read),
        "PutItem" | "UpdateItem" | "DeleteItem" | "BatchWriteItem" | "TransactWriteItems" => {
            Some(Kind::Write)
        }
        _ => None,
    }
}

/// A billed DynamoDB request's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Read request units.
    Read,
    /// Write request units.
    Write,
}

/// One publication's estimated cost, US dollars.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CostEstimate {
    /// API Gateway messages, in and out.
    pub api_gateway_usd: f64,
    /// Lambda requests.
    pub lambda_requests_usd: f64,
    /// Lambda duration.
    pub lambda_duration_usd: f64,
    /// DynamoDB request units.
    pub dynamodb_usd: f64,
    /// The sum.
    pub total_usd: f64,
    /// The duration each invocation was priced at, ms (billed per started ms).
    pub invocation_ms: f64,
}

/// Prices one publication to `subscribers` making `calls`, each invocation lasting
/// `invocation_ms` at `memory_mb`. Every write is taken as one unit (items under 1 KB) and
/// every read as one, but the subscribers' `Query`, which reads
/// [`SUBSCRIPTION_ITEM_BYTES`] per subscriber, 4 KB per unit.
pub fn estimate(
    calls: &PublicationCalls,
    subscribers: usize,
    invocation_ms: f64,
    memory_mb: u32,
    prices: &Prices,
) -> CostEstimate {
    let per_million = |count: f64, price: f64| count * price / 1e6;
    let api_gateway_usd = per_million(
        calls.inbound_messages + calls.post_to_connection,
        prices.api_gateway_message_per_million,
    );
    let lambda_requests_usd =
        per_million(calls.lambda_invocations, prices.lambda_request_per_million);
    let billed_seconds = invocation_ms.max(0.0).ceil() / 1000.0;
    let lambda_duration_usd = calls.lambda_invocations
        * billed_seconds
        * (f64::from(memory_mb) / 1024.0)
        * prices.lambda_gb_second;
    let query_units = (subscribers as u64 * SUBSCRIPTION_ITEM_BYTES)
        .div_ceil(4096)
        .max(1) as f64;
    let queries = calls
        .dynamodb_operations
        .get("Query")
        .copied()
        .unwrap_or(0.0);
    let read_units = calls.dynamodb_read_requests + queries.min(1.0) * (query_units - 1.0);
    let dynamodb_usd = per_million(read_units, prices.dynamodb_read_unit_per_million)
        + per_million(
            calls.dynamodb_write_requests,
            prices.dynamodb_write_unit_per_million,
        );
    CostEstimate {
        api_gateway_usd,
        lambda_requests_usd,
        lambda_duration_usd,
        dynamodb_usd,
        total_usd: api_gateway_usd + lambda_requests_usd + lambda_duration_usd + dynamodb_usd,
        invocation_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(posts: f64, reads: f64, writes: f64) -> PublicationCalls {
        PublicationCalls {
            inbound_messages: 1.0,
            post_to_connection: posts,
            lambda_invocations: 1.0,
            dynamodb_read_requests: reads,
            dynamodb_write_requests: writes,
            dynamodb_operations: BTreeMap::from([("Query".to_owned(), reads)]),
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-15
    }

    #[test]
    fn messages_in_and_out_are_priced_per_million() {
        let cost = estimate(&calls(10.0, 0.0, 0.0), 10, 0.0, 256, &Prices::US_EAST_1);
        // 1 received + 10 sent at $1.00 per million.
        assert!(close(cost.api_gateway_usd, 11e-6));
        assert!(close(cost.lambda_requests_usd, 0.2e-6));
        assert_eq!(cost.lambda_duration_usd, 0.0);
    }

    #[test]
    fn duration_is_billed_per_started_millisecond_at_the_memory_size() {
        let cost = estimate(&calls(0.0, 0.0, 0.0), 0, 99.2, 256, &Prices::US_EAST_1);
        // 100 ms at a quarter GB.
        assert!(close(
            cost.lambda_duration_usd,
            0.1 * 0.25 * 0.000_016_666_7
        ));
        assert!(close(
            cost.total_usd,
            cost.api_gateway_usd + cost.lambda_requests_usd + cost.lambda_duration_usd
        ));
    }

    #[test]
    fn the_subscribers_query_reads_four_kilobytes_per_unit() {
        let prices = Prices::US_EAST_1;
        // 100 subscribers × 100 B = 10,000 B: 3 read units for the one Query.
        let hundred = estimate(&calls(0.0, 1.0, 1.0), 100, 0.0, 256, &prices);
        assert!(close(hundred.dynamodb_usd, (3.0 * 0.125 + 0.625) / 1e6));
        // One subscriber: one unit, as any small read.
        let one = estimate(&calls(0.0, 1.0, 0.0), 1, 0.0, 256, &prices);
        assert!(close(one.dynamodb_usd, 0.125 / 1e6));
    }

    #[test]
    fn operations_are_sorted_into_reads_and_writes() {
        assert_eq!(dynamodb_kind("Query"), Some(Kind::Read));
        assert_eq!(dynamodb_kind("BatchGetItem"), Some(Kind::Read));
        assert_eq!(dynamodb_kind("UpdateItem"), Some(Kind::Write));
        assert_eq!(dynamodb_kind("DescribeTable"), None);
    }

    #[test]
    fn an_hour_of_connection_costs_sixty_connection_minutes() {
        assert!(close(Prices::US_EAST_1.connection_hour_usd(), 15e-6));
    }
}
