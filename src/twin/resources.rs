//! A connection's network and access objects, as CB-Spider keeps them: VPCs with their
//! subnets, security groups (in a VPC) and key pairs, each created with a `SystemId` from
//! Spider's ID transform; and the read-only catalogue a connection sees (images, VM specs).
//! Names are unique per connection, as Spider's metadata is. A VPC or security group a VM uses
//! cannot be deleted (the CSP refuses), unless forced.
//!
//! Sources: `../shared/domain/spider-api.md` sections 1.3-1.4 (routes, request and info
//! structs) and 2 (the mock driver's checks and answers).

use super::model::{Peers, Reply, Twin};
use super::request::{ApiError, ApiRequest, check_name};
use super::routes::Resource;
use super::wire::{
    Envelope, IId, KeyPairInfo, KeyPairReq, SecurityInfo, SecurityReq, SubnetInfo, SubnetReq,
    VpcInfo, VpcReq,
};

fn what(k: Resource) -> &'static str {
    match k {
        Resource::Vpc => "VPC",
        Resource::SecurityGroup => "security group",
        Resource::KeyPair => "key pair",
    }
}

fn list_key(k: Resource) -> &'static str {
    match k {
        Resource::Vpc => "vpc",
        Resource::SecurityGroup => "securitygroup",
        Resource::KeyPair => "keypair",
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).expect("wire objects serialize")
}

impl Twin {
    /// `ReqInfo` of a create request, named and with a valid name.
    fn req_info<T: serde::de::DeserializeOwned + Default>(
        req: &ApiRequest,
    ) -> Result<(String, T), ApiError> {
        let env: Envelope<T> = req.json()?;
        if env.connection_name.is_empty() {
            return Err(ApiError::internal("ConnectionName is required"));
        }
        let info = env
            .req_info
            .ok_or_else(|| ApiError::bad_request("ReqInfo is required"))?;
        Ok((env.connection_name, info))
    }

    /// The object's `SystemId`: the name itself with `IDTransformMode` OFF.
    fn new_iid(&mut self, req: &ApiRequest, name: &str) -> IId {
        let off = serde_json::from_str::<serde_json::Value>(&req.body)
            .ok()
            .and_then(|v| {
                v.get("IDTransformMode")
                    .and_then(|m| m.as_str().map(str::to_string))
            })
            .is_some_and(|m| m.eq_ignore_ascii_case("OFF"));
        let system = if off {
            name.to_string()
        } else {
            self.system_id(name)
        };
        IId::new(name, &system)
    }

    pub(super) fn resource_create(
        &mut self,
        k: Resource,
        req: &ApiRequest,
    ) -> Result<Reply, ApiError> {
        match k {
            Resource::Vpc => {
                let (conn, r): (String, VpcReq) = Self::req_info(req)?;
                check_name("VPC", &r.name)?;
                for s in &r.subnet_info_list {
                    check_name("subnet", &s.name)?;
                }
                self.known(&conn)?;
                if self.connections[&conn].vpcs.contains_key(&r.name) {
                    return Err(exists("VPC", &r.name, &conn));
                }
                let iid = self.new_iid(req, &r.name);
                let subnets = r
                    .subnet_info_list
                    .iter()
                    .map(|s| self.subnet(req, s))
                    .collect();
                let info = VpcInfo {
                    iid,
                    ipv4_cidr: r.ipv4_cidr,
                    subnet_info_list: subnets,
                    tag_list: r.tag_list,
                    key_value_list: vec![],
                };
                let c = self.conn_mut(&conn)?;
                c.vpcs.insert(r.name, info.clone());
                Ok(Reply::ok(&info))
            }
            Resource::SecurityGroup => {
                let (conn, r): (String, SecurityReq) = Self::req_info(req)?;
                check_name("security group", &r.name)?;
                let c = self.known(&conn)?;
                let vpc = c
                    .vpcs
                    .get(&r.vpc_name)
                    .map(|v| v.iid.clone())
                    .ok_or_else(|| ApiError::not_exist("VPC", &r.vpc_name))?;
                if c.sgs.contains_key(&r.name) {
                    return Err(exists("security group", &r.name, &conn));
                }
                let info = SecurityInfo {
                    iid: self.new_iid(req, &r.name),
                    vpc_iid: vpc,
                    security_rules: r.security_rules,
                    tag_list: r.tag_list,
                    key_value_list: vec![],
                };
                self.conn_mut(&conn)?.sgs.insert(r.name, info.clone());
                Ok(Reply::ok(&info))
            }
            Resource::KeyPair => {
                let (conn, r): (String, KeyPairReq) = Self::req_info(req)?;
                check_name("key pair", &r.name)?;
                if self.known(&conn)?.keys.contains_key(&r.name) {
                    return Err(exists("key pair", &r.name, &conn));
                }
                let iid = self.new_iid(req, &r.name);
                let tag = &iid.system_id;
                let info = KeyPairInfo {
                    fingerprint: format!("cloudtwin:{tag}"),
                    public_key: format!("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5-cloudtwin-{tag}"),
                    private_key: format!(
                        "-----BEGIN OPENSSH PRIVATE KEY-----\ncloudtwin-{tag}\n\
                         -----END OPENSSH PRIVATE KEY-----"
                    ),
                    vm_user_id: "cb-user".into(),
                    tag_list: r.tag_list,
                    key_value_list: vec![],
                    iid,
                };
                // The private key is returned at creation only.
                let mut stored = info.clone();
                stored.private_key = String::new();
                self.conn_mut(&conn)?.keys.insert(r.name, stored);
                Ok(Reply::ok(&info))
            }
        }
    }

    fn subnet(&mut self, req: &ApiRequest, s: &SubnetReq) -> SubnetInfo {
        SubnetInfo {
            iid: self.new_iid(req, &s.name),
            zone: s.zone.clone(),
            ipv4_cidr: s.ipv4_cidr.clone(),
            tag_list: s.tag_list.clone(),
            key_value_list: vec![],
        }
    }

    pub(super) fn resource_list(&self, k: Resource, req: &ApiRequest) -> Result<Reply, ApiError> {
        let (_, c) = self.connection(req)?;
        let list: Vec<serde_json::Value> = match k {
            Resource::Vpc => c.vpcs.values().map(to_value).collect(),
            Resource::SecurityGroup => c.sgs.values().map(to_value).collect(),
            Resource::KeyPair => c.keys.values().map(to_value).collect(),
        };
        Ok(Reply::ok(&serde_json::json!({ list_key(k): list })))
    }

    pub(super) fn resource_get(
        &self,
        k: Resource,
        req: &ApiRequest,
        name: &str,
    ) -> Result<Reply, ApiError> {
        let (_, c) = self.connection(req)?;
        let v = match k {
            Resource::Vpc => c.vpcs.get(name).map(to_value),
            Resource::SecurityGroup => c.sgs.get(name).map(to_value),
            Resource::KeyPair => c.keys.get(name).map(to_value),
        };
        v.map(|v| Reply::ok(&v))
            .ok_or_else(|| ApiError::not_exist(what(k), name))
    }

    /// `GET /allvpc` etc.: every object is both Spider's and the CSP's ("mapped").
    pub(super) fn resource_all(&self, k: Resource, req: &ApiRequest) -> Result<Reply, ApiError> {
        let (_, c) = self.connection(req)?;
        let iids: Vec<&IId> = match k {
            Resource::Vpc => c.vpcs.values().map(|v| &v.iid).collect(),
            Resource::SecurityGroup => c.sgs.values().map(|v| &v.iid).collect(),
            Resource::KeyPair => c.keys.values().map(|v| &v.iid).collect(),
        };
        Ok(Reply::ok(&all_list(iids)))
    }

    pub(super) fn resource_delete(
        &mut self,
        k: Resource,
        req: &ApiRequest,
        name: &str,
    ) -> Result<Reply, ApiError> {
        let force = req.query_param("force").is_some_and(|f| f == "true");
        let (conn, c) = self.connection(req)?;
        if !force {
            let user = c.vms.iter().find(|(_, vm)| {
                self.vms.get(vm).is_some_and(|r| match k {
                    Resource::Vpc => r.req.vpc_name == name,
                    Resource::SecurityGroup => r.req.security_group_names.iter().any(|s| s == name),
                    Resource::KeyPair => false,
                })
            });
            if let Some((vm, _)) = user {
                return Err(ApiError::internal(format!(
                    "{} '{name}' is in use by VM '{vm}'",
                    what(k)
                )));
            }
            if k == Resource::Vpc
                && let Some(sg) = c.sgs.values().find(|s| s.vpc_iid.name_id == name)
            {
                return Err(ApiError::internal(format!(
                    "VPC '{name}' is in use by security group '{}'",
                    sg.iid.name_id
                )));
            }
        }
        let c = self.conn_mut(&conn)?;
        let removed = match k {
            Resource::Vpc => c.vpcs.remove(name).is_some(),
            Resource::SecurityGroup => c.sgs.remove(name).is_some(),
            Resource::KeyPair => c.keys.remove(name).is_some(),
        };
        if !removed {
            return Err(ApiError::not_exist(what(k), name));
        }
        Ok(Reply::ok(&serde_json::json!({ "Result": "true" })))
    }

    pub(super) fn subnet_add(&mut self, req: &ApiRequest, vpc: &str) -> Result<Reply, ApiError> {
        let (conn, s): (String, SubnetReq) = Self::req_info(req)?;
        check_name("subnet", &s.name)?;
        let c = self.known(&conn)?;
        let v = c
            .vpcs
            .get(vpc)
            .ok_or_else(|| ApiError::not_exist("VPC", vpc))?;
        if v.subnet_info_list.iter().any(|x| x.iid.name_id == s.name) {
            return Err(exists("subnet", &s.name, &conn));
        }
        let subnet = self.subnet(req, &s);
        let v = self
            .conn_mut(&conn)?
            .vpcs
            .get_mut(vpc)
            .ok_or_else(|| ApiError::not_exist("VPC", vpc))?;
        v.subnet_info_list.push(subnet);
        Ok(Reply::ok(&v.clone()))
    }

    pub(super) fn subnet_get(
        &self,
        req: &ApiRequest,
        vpc: &str,
        name: &str,
    ) -> Result<Reply, ApiError> {
        let (_, c) = self.connection(req)?;
        let v = c
            .vpcs
            .get(vpc)
            .ok_or_else(|| ApiError::not_exist("VPC", vpc))?;
        v.subnet_info_list
            .iter()
            .find(|s| s.iid.name_id == name)
            .map(Reply::ok)
            .ok_or_else(|| ApiError::not_exist("subnet", name))
    }

    pub(super) fn subnet_delete(
        &mut self,
        req: &ApiRequest,
        vpc: &str,
        name: &str,
    ) -> Result<Reply, ApiError> {
        let (conn, c) = self.connection(req)?;
        if let Some((vm, _)) = c.vms.iter().find(|(_, id)| {
            self.vms
                .get(id)
                .is_some_and(|r| r.req.vpc_name == vpc && r.req.subnet_name == name)
        }) {
            return Err(ApiError::internal(format!(
                "subnet '{name}' is in use by VM '{vm}'"
            )));
        }
        let v = self
            .conn_mut(&conn)?
            .vpcs
            .get_mut(vpc)
            .ok_or_else(|| ApiError::not_exist("VPC", vpc))?;
        let before = v.subnet_info_list.len();
        v.subnet_info_list.retain(|s| s.iid.name_id != name);
        if v.subnet_info_list.len() == before {
            return Err(ApiError::not_exist("subnet", name));
        }
        Ok(Reply::ok(&serde_json::json!({ "Result": "true" })))
    }

    /// `GET /vmimage[/{name}]`.
    pub(super) fn images(
        &self,
        p: &Peers<'_>,
        req: &ApiRequest,
        name: Option<&str>,
    ) -> Result<Reply, ApiError> {
        let (_, c) = self.connection(req)?;
        let provider = &p.lifecycle.plan().clouds[c.cloud as usize].region.provider;
        match name {
            None => Ok(Reply::ok(
                &serde_json::json!({ "image": self.catalog.images(provider) }),
            )),
            Some(n) => self
                .catalog
                .image(provider, n)
                .map(|i| Reply::ok(&i))
                .ok_or_else(|| ApiError::internal(format!("{n} image does not exist!!"))),
        }
    }

    /// `GET /vmspec[/{name}]`.
    pub(super) fn specs(
        &self,
        p: &Peers<'_>,
        req: &ApiRequest,
        name: Option<&str>,
    ) -> Result<Reply, ApiError> {
        let (_, c) = self.connection(req)?;
        let r = &p.lifecycle.plan().clouds[c.cloud as usize].region;
        match name {
            None => {
                let list: Vec<_> = self
                    .catalog
                    .specs(&r.provider, &r.region)
                    .into_iter()
                    .map(|(_, info)| info)
                    .collect();
                Ok(Reply::ok(&serde_json::json!({ "vmspec": list })))
            }
            Some(n) => self
                .catalog
                .spec(&r.provider, &r.region, n)
                .map(|(_, info)| Reply::ok(&info))
                .ok_or_else(|| ApiError::internal(format!("{n} VMSpec does not exist!!"))),
        }
    }

    /// The named connection (for a create request's `ConnectionName`).
    pub(super) fn known(&self, conn: &str) -> Result<&super::model::Connection, ApiError> {
        self.connections
            .get(conn)
            .ok_or_else(|| ApiError::not_exist("connection config", conn))
    }

    pub(super) fn conn_mut(
        &mut self,
        conn: &str,
    ) -> Result<&mut super::model::Connection, ApiError> {
        self.connections
            .get_mut(conn)
            .ok_or_else(|| ApiError::not_exist("connection config", conn))
    }
}

fn exists(what: &str, name: &str, conn: &str) -> ApiError {
    ApiError::internal(format!(
        "{what} '{name}' already exists in connection '{conn}'"
    ))
}

/// Spider's `{"AllList": {"MappedList": [..], "OnlySpiderList": [], "OnlyCSPList": []}}`.
pub(super) fn all_list(iids: Vec<&IId>) -> serde_json::Value {
    serde_json::json!({
        "AllList": {
            "MappedList": iids,
            "OnlySpiderList": [],
            "OnlyCSPList": [],
        }
    })
}
