//! Which of CB-Spider's routes (and the twin's own `/cloudtwin` routes) a request is, with its
//! path parameters decoded, and the route's label for the API table (`GET
//! /spider/vmstatus/{Name}`).
//!
//! Source: `../shared/domain/spider-api.md` section 1 (`SP@HEAD:api-runtime/rest-runtime/
//! CBSpiderRuntime.go` route table).

use super::request::ApiError;

/// The kinds of cloud info (CIM) objects.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Cim {
    Driver,
    Credential,
    Region,
    Connection,
}

/// Connection-scoped resources other than VMs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Resource {
    Vpc,
    SecurityGroup,
    KeyPair,
}

/// A recognised request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    CloudOs,
    CimCreate(Cim),
    CimList(Cim),
    CimGet(Cim, String),
    CimDelete(Cim, String),
    RegionZoneList,
    RegionZoneGet(String),
    ImageList,
    ImageGet(String),
    SpecList,
    SpecGet(String),
    ResourceCreate(Resource),
    ResourceList(Resource),
    ResourceGet(Resource, String),
    ResourceDelete(Resource, String),
    /// `GET /allvpc` etc.: Spider's mapped / only-Spider / only-CSP lists.
    ResourceAll(Resource),
    SubnetAdd(String),
    SubnetGet(String, String),
    SubnetDelete(String, String),
    VmStart,
    VmList,
    VmGet(String),
    VmDelete(String),
    VmAll,
    VmStatusList,
    VmStatusGet(String),
    VmControl(String),
    VmCount,
    VmCountOf(String),
    /// `POST /cloudtwin/outage`.
    AdminOutage,
    /// `PUT /cloudtwin/provider/{name}`.
    AdminProvider(String),
    /// `GET /cloudtwin/state`.
    AdminState,
    /// `GET /cloudtwin/agent/{conn}/{vm}/cb-dragonfly/healthcheck`.
    AgentHealth(String, String),
    /// `GET /cloudtwin/agent/{conn}/{vm}/cb-dragonfly/metric/{metric}`.
    AgentMetric(String, String, String),
}

/// A parsed request: the route and its label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matched {
    pub route: Route,
    pub label: &'static str,
}

fn decode(seg: &str) -> String {
    percent_encoding::percent_decode_str(seg)
        .decode_utf8_lossy()
        .into_owned()
}

/// The route of `method path`, or 404 (no such path) / 405 (no such method on it).
pub fn route(method: &str, path: &str) -> Result<Matched, ApiError> {
    let segs: Vec<String> = path
        .trim_end_matches('/')
        .split('/')
        .skip(1)
        .map(decode)
        .collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = method;
    let owned = |i: usize| segs[i].clone();
    let found = |route: Route, label: &'static str| Ok(Matched { route, label });
    let wrong_method = || Err(ApiError::method_not_allowed());
    let cim = |name: &str| match name {
        "driver" => Some(Cim::Driver),
        "credential" => Some(Cim::Credential),
        "region" => Some(Cim::Region),
        "connectionconfig" => Some(Cim::Connection),
        _ => None,
    };
    let resource = |name: &str| match name {
        "vpc" => Some(Resource::Vpc),
        "securitygroup" => Some(Resource::SecurityGroup),
        "keypair" => Some(Resource::KeyPair),
        _ => None,
    };
    match s.as_slice() {
        ["spider", "cloudos"] if m == "GET" => found(Route::CloudOs, "GET /spider/cloudos"),
        ["spider", kind] if cim(kind).is_some() => {
            let k = cim(kind).expect("checked");
            match m {
                "POST" => found(Route::CimCreate(k), cim_label(k, "POST", false)),
                "GET" => found(Route::CimList(k), cim_label(k, "GET", false)),
                _ => wrong_method(),
            }
        }
        ["spider", kind, _] if cim(kind).is_some() => {
            let k = cim(kind).expect("checked");
            match m {
                "GET" => found(Route::CimGet(k, owned(2)), cim_label(k, "GET", true)),
                "DELETE" => found(Route::CimDelete(k, owned(2)), cim_label(k, "DELETE", true)),
                _ => wrong_method(),
            }
        }
        ["spider", "regionzone"] if m == "GET" => {
            found(Route::RegionZoneList, "GET /spider/regionzone")
        }
        ["spider", "regionzone", _] if m == "GET" => found(
            Route::RegionZoneGet(owned(2)),
            "GET /spider/regionzone/{Name}",
        ),
        ["spider", "vmimage"] if m == "GET" => found(Route::ImageList, "GET /spider/vmimage"),
        ["spider", "vmimage", _] if m == "GET" => {
            found(Route::ImageGet(owned(2)), "GET /spider/vmimage/{Name}")
        }
        ["spider", "vmspec"] if m == "GET" => found(Route::SpecList, "GET /spider/vmspec"),
        ["spider", "vmspec", _] if m == "GET" => {
            found(Route::SpecGet(owned(2)), "GET /spider/vmspec/{Name}")
        }
        ["spider", "vpc", vpc, "subnet"] if m == "POST" => found(
            Route::SubnetAdd(vpc.to_string()),
            "POST /spider/vpc/{VPCName}/subnet",
        ),
        ["spider", "vpc", vpc, "subnet", _] => match m {
            "GET" => found(
                Route::SubnetGet(vpc.to_string(), owned(4)),
                "GET /spider/vpc/{VPCName}/subnet/{SubnetName}",
            ),
            "DELETE" => found(
                Route::SubnetDelete(vpc.to_string(), owned(4)),
                "DELETE /spider/vpc/{VPCName}/subnet/{SubnetName}",
            ),
            _ => wrong_method(),
        },
        ["spider", kind] if resource(kind).is_some() => {
            let k = resource(kind).expect("checked");
            match m {
                "POST" => found(Route::ResourceCreate(k), resource_label(k, "POST", false)),
                "GET" => found(Route::ResourceList(k), resource_label(k, "GET", false)),
                _ => wrong_method(),
            }
        }
        ["spider", kind, _] if resource(kind).is_some() => {
            let k = resource(kind).expect("checked");
            match m {
                "GET" => found(
                    Route::ResourceGet(k, owned(2)),
                    resource_label(k, "GET", true),
                ),
                "DELETE" => found(
                    Route::ResourceDelete(k, owned(2)),
                    resource_label(k, "DELETE", true),
                ),
                _ => wrong_method(),
            }
        }
        ["spider", "allvpc"] if m == "GET" => {
            found(Route::ResourceAll(Resource::Vpc), "GET /spider/allvpc")
        }
        ["spider", "allsecuritygroup"] if m == "GET" => found(
            Route::ResourceAll(Resource::SecurityGroup),
            "GET /spider/allsecuritygroup",
        ),
        ["spider", "allkeypair"] if m == "GET" => found(
            Route::ResourceAll(Resource::KeyPair),
            "GET /spider/allkeypair",
        ),
        ["spider", "allvm"] if m == "GET" => found(Route::VmAll, "GET /spider/allvm"),
        ["spider", "vm"] => match m {
            "POST" => found(Route::VmStart, "POST /spider/vm"),
            "GET" => found(Route::VmList, "GET /spider/vm"),
            _ => wrong_method(),
        },
        ["spider", "vm", _] => match m {
            "GET" => found(Route::VmGet(owned(2)), "GET /spider/vm/{Name}"),
            "DELETE" => found(Route::VmDelete(owned(2)), "DELETE /spider/vm/{Name}"),
            _ => wrong_method(),
        },
        ["spider", "vmstatus"] if m == "GET" => found(Route::VmStatusList, "GET /spider/vmstatus"),
        ["spider", "vmstatus", _] if m == "GET" => {
            found(Route::VmStatusGet(owned(2)), "GET /spider/vmstatus/{Name}")
        }
        ["spider", "controlvm", _] => match m {
            "GET" => found(Route::VmControl(owned(2)), "GET /spider/controlvm/{Name}"),
            "PUT" => found(Route::VmControl(owned(2)), "PUT /spider/controlvm/{Name}"),
            _ => wrong_method(),
        },
        ["spider", "countvm"] if m == "GET" => found(Route::VmCount, "GET /spider/countvm"),
        ["spider", "countvm", _] if m == "GET" => found(
            Route::VmCountOf(owned(2)),
            "GET /spider/countvm/{ConnectionName}",
        ),
        ["cloudtwin", "outage"] if m == "POST" => {
            found(Route::AdminOutage, "POST /cloudtwin/outage")
        }
        ["cloudtwin", "provider", _] if m == "PUT" => found(
            Route::AdminProvider(owned(2)),
            "PUT /cloudtwin/provider/{Name}",
        ),
        ["cloudtwin", "state"] if m == "GET" => found(Route::AdminState, "GET /cloudtwin/state"),
        ["cloudtwin", "agent", _, _, "cb-dragonfly", "healthcheck"] if m == "GET" => found(
            Route::AgentHealth(owned(2), owned(3)),
            "GET /cloudtwin/agent/{ConnectionName}/{Name}/cb-dragonfly/healthcheck",
        ),
        ["cloudtwin", "agent", _, _, "cb-dragonfly", "metric", _] if m == "GET" => found(
            Route::AgentMetric(owned(2), owned(3), owned(6)),
            "GET /cloudtwin/agent/{ConnectionName}/{Name}/cb-dragonfly/metric/{Metric}",
        ),
        _ => Err(ApiError::not_found_route()),
    }
}

fn cim_label(k: Cim, method: &str, named: bool) -> &'static str {
    match (k, method, named) {
        (Cim::Driver, "POST", _) => "POST /spider/driver",
        (Cim::Driver, "GET", false) => "GET /spider/driver",
        (Cim::Driver, "GET", true) => "GET /spider/driver/{Name}",
        (Cim::Driver, _, _) => "DELETE /spider/driver/{Name}",
        (Cim::Credential, "POST", _) => "POST /spider/credential",
        (Cim::Credential, "GET", false) => "GET /spider/credential",
        (Cim::Credential, "GET", true) => "GET /spider/credential/{Name}",
        (Cim::Credential, _, _) => "DELETE /spider/credential/{Name}",
        (Cim::Region, "POST", _) => "POST /spider/region",
        (Cim::Region, "GET", false) => "GET /spider/region",
        (Cim::Region, "GET", true) => "GET /spider/region/{Name}",
        (Cim::Region, _, _) => "DELETE /spider/region/{Name}",
        (Cim::Connection, "POST", _) => "POST /spider/connectionconfig",
        (Cim::Connection, "GET", false) => "GET /spider/connectionconfig",
        (Cim::Connection, "GET", true) => "GET /spider/connectionconfig/{Name}",
        (Cim::Connection, _, _) => "DELETE /spider/connectionconfig/{Name}",
    }
}

fn resource_label(k: Resource, method: &str, named: bool) -> &'static str {
    match (k, method, named) {
        (Resource::Vpc, "POST", _) => "POST /spider/vpc",
        (Resource::Vpc, "GET", false) => "GET /spider/vpc",
        (Resource::Vpc, "GET", true) => "GET /spider/vpc/{Name}",
        (Resource::Vpc, _, _) => "DELETE /spider/vpc/{Name}",
        (Resource::SecurityGroup, "POST", _) => "POST /spider/securitygroup",
        (Resource::SecurityGroup, "GET", false) => "GET /spider/securitygroup",
        (Resource::SecurityGroup, "GET", true) => "GET /spider/securitygroup/{Name}",
        (Resource::SecurityGroup, _, _) => "DELETE /spider/securitygroup/{Name}",
        (Resource::KeyPair, "POST", _) => "POST /spider/keypair",
        (Resource::KeyPair, "GET", false) => "GET /spider/keypair",
        (Resource::KeyPair, "GET", true) => "GET /spider/keypair/{Name}",
        (Resource::KeyPair, _, _) => "DELETE /spider/keypair/{Name}",
    }
}

/// The label of a request that matches no route.
pub const OTHER: &str = "other";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_labels() {
        let r = route("GET", "/spider/vmstatus/web%2D1").unwrap();
        assert_eq!(r.route, Route::VmStatusGet("web-1".into()));
        assert_eq!(r.label, "GET /spider/vmstatus/{Name}");
        assert_eq!(
            route("PUT", "/spider/controlvm/a").unwrap().route,
            Route::VmControl("a".into())
        );
        assert_eq!(
            route("DELETE", "/spider/connectionconfig/c/")
                .unwrap()
                .route,
            Route::CimDelete(Cim::Connection, "c".into())
        );
        assert_eq!(
            route("POST", "/spider/vpc/v1/subnet").unwrap().route,
            Route::SubnetAdd("v1".into())
        );
        assert_eq!(route("GET", "/spider/nothing").unwrap_err().status, 404);
        assert_eq!(route("PATCH", "/spider/vm").unwrap_err().status, 405);
        assert_eq!(route("GET", "/").unwrap_err().status, 404);
    }
}
