//! The WebSocket API's routes as a SAM/CloudFormation template declares
//! them: the route selection expression and the routes whose integration
//! is `MOCK`, which API Gateway answers itself without invoking Lambda.
//!
//! Only what the emulator acts on is read: the `AWS::ApiGatewayV2::Api`
//! with `ProtocolType: WEBSOCKET` (its `RouteSelectionExpression`, of the
//! form `$request.body.<path>`), each `AWS::ApiGatewayV2::Route` (`RouteKey`,
//! `Target: !Sub "integrations/${Integration}"`), each
//! `AWS::ApiGatewayV2::Integration` (`IntegrationType`) and each
//! `AWS::ApiGatewayV2::IntegrationResponse` (`IntegrationId: !Ref
//! Integration`, `ResponseTemplates`). Response templates are sent as
//! written: a static text is its own Velocity template; one using `$` or
//! `#` (Velocity references and directives) is refused when loading, as
//! the emulator does not evaluate Velocity. Every other message, and every
//! route key with a Lambda integration, goes to the WebSocket function as
//! `$default`, as in these templates all routes invoke the one function.

use serde_norway::Value;
use std::collections::HashMap;

/// Why a template cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BadTemplate {
    /// Not YAML.
    #[error("the template is not YAML: {0}")]
    Yaml(#[from] serde_norway::Error),
    /// A part the emulator reads has a shape it does not know.
    #[error("{resource}: {problem}")]
    Unsupported {
        /// The resource's logical id.
        resource: String,
        /// What is wrong.
        problem: String,
    },
}

/// What a message selects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selected<'a> {
    /// A `MOCK` route: answered with this text (or nothing, for a route
    /// without an integration response), Lambda not invoked.
    Mock(Option<&'a str>),
    /// The function's `$default` route.
    Function,
}

/// The routes of one WebSocket API.
#[derive(Clone, Debug, Default)]
pub struct WsRoutes {
    /// The path into a JSON body of `$request.body.<path>`.
    selection: Vec<String>,
    /// `MOCK` route keys and their answer.
    mocks: HashMap<String, Option<String>>,
}

impl WsRoutes {
    /// Reads the WebSocket API's routes from a SAM or CloudFormation
    /// template (YAML, short-form intrinsics such as `!Sub` allowed).
    pub fn from_template(yaml: &str) -> Result<Self, BadTemplate> {
        let template: Value = serde_norway::from_str(yaml)?;
        let resources = template
            .get("Resources")
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
            .filter_map(|(id, resource)| Some((id.as_str()?, resource)));
        let mut selection = None;
        let mut routes = Vec::new();
        let mut mock_integrations = Vec::new();
        let mut answers = HashMap::new();
        for (id, resource) in resources {
            let properties = resource.get("Properties");
            let property = |name: &str| properties.and_then(|p| p.get(name));
            let unsupported = |problem: String| BadTemplate::Unsupported {
                resource: id.to_owned(),
                problem,
            };
            match resource.get("Type").and_then(Value::as_str) {
                Some("AWS::ApiGatewayV2::Api")
                    if property("ProtocolType").and_then(Value::as_str) == Some("WEBSOCKET") =>
                {
                    let expression = property("RouteSelectionExpression")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let path = expression.strip_prefix("$request.body.").ok_or_else(|| {
                        unsupported(format!(
                            "RouteSelectionExpression {expression:?} is not $request.body.<path>"
                        ))
                    })?;
                    selection = Some(path.split('.').map(str::to_owned).collect());
                }
                Some("AWS::ApiGatewayV2::Route") => {
                    let key = property("RouteKey").and_then(Value::as_str);
                    let target = property("Target").and_then(referenced);
                    if let (Some(key), Some(target)) = (key, target) {
                        routes.push((key.to_owned(), target));
                    }
                }
                Some("AWS::ApiGatewayV2::Integration")
                    if property("IntegrationType").and_then(Value::as_str) == Some("MOCK") =>
                {
                    mock_integrations.push(id.to_owned());
                }
                Some("AWS::ApiGatewayV2::IntegrationResponse") => {
                    let Some(integration) = property("IntegrationId").and_then(referenced) else {
                        continue;
                    };
                    let templates = property("ResponseTemplates").and_then(Value::as_mapping);
                    let template = templates.and_then(|t| {
                        t.get("$default")
                            .or_else(|| t.values().next())
                            .and_then(Value::as_str)
                    });
                    if let Some(text) = template {
                        if text.contains(['$', '#']) {
                            return Err(unsupported(format!(
                                "response template {text:?} uses Velocity, which the emulator does not evaluate"
                            )));
                        }
                        answers.insert(integration, text.to_owned());
                    }
                }
                _ => {}
            }
        }
        let mocks = routes
            .into_iter()
            .filter(|(_, target)| mock_integrations.contains(target))
            .map(|(key, target)| (key, answers.get(&target).cloned()))
            .collect();
        Ok(Self {
            selection: selection.unwrap_or_default(),
            mocks,
        })
    }

    /// The `MOCK` route keys.
    pub fn mock_keys(&self) -> impl Iterator<Item = &str> {
        self.mocks.keys().map(String::as_str)
    }

    /// The route `text` selects. Only JSON objects select a route; any
    /// other message, and a key without a route, is `$default`'s.
    pub fn select(&self, text: &str) -> Selected<'_> {
        if self.mocks.is_empty() || self.selection.is_empty() {
            return Selected::Function;
        }
        let Ok(body) = serde_json::from_str::<serde_json::Value>(text) else {
            return Selected::Function;
        };
        let key = self
            .selection
            .iter()
            .try_fold(&body, |value, name| value.get(name));
        let key = match key {
            Some(serde_json::Value::String(key)) => key.clone(),
            Some(other) if !other.is_null() => other.to_string(),
            _ => return Selected::Function,
        };
        match self.mocks.get(&key) {
            Some(answer) => Selected::Mock(answer.as_deref()),
            None => Selected::Function,
        }
    }
}

/// The logical id a `Target` or `IntegrationId` refers to: `!Ref X`,
/// `{"Ref": X}`, `!Sub "integrations/${X}"` or `{"Fn::Sub": ...}`.
fn referenced(value: &Value) -> Option<String> {
    if let Value::Tagged(tagged) = value {
        let tag = tagged.tag.to_string();
        let text = tagged.value.as_str()?;
        return match tag.trim_start_matches('!') {
            "Ref" => Some(text.to_owned()),
            "Sub" => substituted(text),
            _ => None,
        };
    }
    if let Some(text) = value.get("Ref").and_then(Value::as_str) {
        return Some(text.to_owned());
    }
    value
        .get("Fn::Sub")
        .and_then(Value::as_str)
        .and_then(substituted)
}

/// `X` of a `...${X}` substitution.
fn substituted(text: &str) -> Option<String> {
    let start = text.find("${")? + 2;
    let end = start + text[start..].find('}')?;
    Some(text[start..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: "$request.body.xws"
  Lambda:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      IntegrationType: AWS_PROXY
  DefaultRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      RouteKey: "$default"
      Target: !Sub "integrations/${Lambda}"
  Ping:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      IntegrationType: MOCK
  PingRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      RouteKey: ping
      Target: !Sub "integrations/${Ping}"
  PingResponse:
    Type: AWS::ApiGatewayV2::IntegrationResponse
    Properties:
      IntegrationId: !Ref Ping
      IntegrationResponseKey: "$default"
      ResponseTemplates:
        "$default": '{"xws":"pong"}'
"#;

    #[test]
    fn mock_routes_answer_their_template_and_the_rest_invokes_the_function() {
        let routes = WsRoutes::from_template(TEMPLATE).unwrap();
        assert_eq!(routes.mock_keys().collect::<Vec<_>>(), ["ping"]);
        assert_eq!(
            routes.select(r#"{"xws":"ping"}"#),
            Selected::Mock(Some(r#"{"xws":"pong"}"#))
        );
        assert_eq!(routes.select(r#"{"xws":"other"}"#), Selected::Function);
        assert_eq!(routes.select(r#"{"type":"ping"}"#), Selected::Function);
        assert_eq!(routes.select("ping"), Selected::Function);
    }

    #[test]
    fn velocity_templates_are_refused() {
        let template = TEMPLATE.replace(r#"'{"xws":"pong"}'"#, r#"'{"id":"$context.requestId"}'"#);
        let error = WsRoutes::from_template(&template).unwrap_err();
        assert!(error.to_string().contains("Velocity"), "{error}");
    }

    #[test]
    fn a_template_without_mock_routes_sends_everything_to_the_function() {
        let routes = WsRoutes::from_template("Resources: {}").unwrap();
        assert_eq!(routes.select(r#"{"xws":"ping"}"#), Selected::Function);
    }
}
