//! API Gateway WebSocket events in, Lambda proxy responses out.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use base64::Engine;
use xws::{Message, RequestInfo};

/// The event's connection id, or an error naming what is missing.
pub(crate) fn connection_id(event: &ApiGatewayWebsocketProxyRequest) -> Result<String, xws::Error> {
    event
        .request_context
        .connection_id
        .clone()
        .ok_or_else(|| xws::Error::malformed("API Gateway event", "no requestContext.connectionId"))
}

/// `https://{domainName}/{stage}`, as API Gateway documents the callback URL.
pub(crate) fn endpoint(event: &ApiGatewayWebsocketProxyRequest) -> Option<String> {
    let context = &event.request_context;
    Some(format!(
        "https://{}/{}",
        context.domain_name.as_deref()?,
        context.stage.as_deref()?
    ))
}

/// The upgrade request as far as API Gateway tells it: headers, query and
/// source IP. API Gateway does not pass the URL path; it is `/{stage}`.
pub(crate) fn request_info(event: &ApiGatewayWebsocketProxyRequest) -> RequestInfo {
    let query = {
        let mut query = form_urlencoded::Serializer::new(String::new());
        let multi = &event.multi_value_query_string_parameters;
        let params = if multi.is_empty() {
            &event.query_string_parameters
        } else {
            multi
        };
        for (key, value) in params.iter() {
            query.append_pair(key, value);
        }
        query.finish()
    };
    let path = format!("/{}", event.request_context.stage.as_deref().unwrap_or(""));
    let mut request = RequestInfo::new(path, Some(&query));
    request.headers = if event.multi_value_headers.is_empty() {
        event.headers.clone()
    } else {
        event.multi_value_headers.clone()
    };
    let ip = event.request_context.identity.source_ip.as_deref();
    if let Some(ip) = ip.and_then(|ip| ip.parse::<std::net::IpAddr>().ok()) {
        request.remote_addr = Some((ip, 0).into());
    }
    request
}

/// The message a `$default` event carries.
pub(crate) fn message(event: &ApiGatewayWebsocketProxyRequest) -> Result<Message, xws::Error> {
    let body = event.body.clone().unwrap_or_default();
    if event.is_base64_encoded {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|e| xws::Error::malformed("base64 body", e))?;
        return Ok(Message::from(bytes));
    }
    Ok(Message::from(body))
}

/// A proxy response with `status` and a text body.
pub(crate) fn response(
    status: u16,
    body: &str,
    headers: http::HeaderMap,
) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = i64::from(status);
    response.headers = headers;
    if !body.is_empty() {
        response.body = Some(Body::Text(body.to_owned()));
    }
    response
}
