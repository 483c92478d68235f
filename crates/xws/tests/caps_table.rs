//! The capability table is complete and consistent, and the run-time check
//! refuses what a target cannot do with a clear error.

use xws::caps::{
    AdapterStatus, Capability, Deployment, DeploymentTarget, Needs, Support, Tokio, Transport,
    Vercel,
};
use xws::{Error, Handler, RequestInfo};

#[test]
fn every_column_describes_its_own_target_with_sources() {
    for target in DeploymentTarget::ALL {
        let column = target.column();
        assert_eq!(
            column.target, target,
            "column of {target:?} names another target"
        );
        for (cell, capability) in column.cells.iter().zip(Capability::ALL) {
            assert_eq!(cell.capability, capability);
            assert!(
                !cell.source.is_empty(),
                "{target:?}/{capability:?} has no source"
            );
            if let Support::None { alternative } = cell.support {
                assert!(
                    !alternative.is_empty(),
                    "{target:?}/{capability:?} names no alternative"
                );
            }
        }
    }
}

#[test]
fn only_targets_with_an_adapter_claim_proven_cells() {
    for target in DeploymentTarget::ALL {
        let column = target.column();
        for cell in &column.cells {
            if cell.proved_by.is_some() {
                assert!(
                    matches!(column.adapter, AdapterStatus::Available { .. }),
                    "{target:?}/{:?} names a scenario but has no adapter",
                    cell.capability
                );
                assert!(cell.support.is_available());
            }
        }
    }
}

#[test]
fn require_names_target_capability_and_alternative() {
    let error = DeploymentTarget::CloudflareWorker
        .require(Capability::PeersListing)
        .unwrap_err();
    let Error::Unsupported {
        target,
        capability,
        alternative,
    } = &error
    else {
        panic!("expected Error::Unsupported, got {error:?}");
    };
    assert_eq!(*target, "Cloudflare Worker (no Durable Object)");
    assert_eq!(*capability, "peers listing");
    assert!(alternative.contains("Durable Object"), "{alternative}");
    assert!(
        DeploymentTarget::CloudflareDurableObject
            .require(Capability::PubSubInstance)
            .is_ok()
    );
}

struct Feed;

impl Handler for Feed {
    type Context = ();
    const NEEDS: Needs = Needs::SSE;
}

#[test]
fn sse_only_entry_point_refuses_websocket_upgrades_on_vercel() {
    let deployment = Deployment::<Vercel, _>::new(Feed);
    let upgrade = RequestInfo::new("/feed", None).with_header("upgrade", "WebSocket");
    let error = deployment.transport_for(&upgrade).unwrap_err();
    assert_eq!(
        error.to_string(),
        "WebSocket is not supported on Vercel functions: use SSE, a Cloudflare Durable Object, or AWS API Gateway WebSocket"
    );
    let stream = RequestInfo::new("/feed", None).with_header("accept", "text/event-stream");
    assert_eq!(deployment.transport_for(&stream).unwrap(), Transport::Sse);
}

#[test]
fn tokio_serves_both_transports() {
    let deployment = Deployment::<Tokio, _>::new(Feed);
    let upgrade = RequestInfo::new("/", None).with_header("upgrade", "websocket");
    assert_eq!(
        deployment.transport_for(&upgrade).unwrap(),
        Transport::WebSocket
    );
    assert_eq!(
        deployment
            .transport_for(&RequestInfo::new("/", None))
            .unwrap(),
        Transport::Sse
    );
}

#[test]
fn needs_collects_capabilities_in_table_order() {
    let needs = Needs::of(&[Capability::PublishFromOutside, Capability::WebSocket]);
    assert_eq!(
        needs.iter().collect::<Vec<_>>(),
        [Capability::WebSocket, Capability::PublishFromOutside]
    );
    assert_eq!(Needs::default(), Needs::WEBSOCKET);
}
