//! CB-Spider's JSON on the wire: the request bodies the twin reads and the objects it
//! answers with, field for field as Spider names them (`IId`/`NameId`/`SystemId`, `ReqInfo`,
//! `IPv4_CIDR`, ...). Requests are read leniently, as Go's JSON decoder does: unknown fields
//! are ignored, missing ones are empty; a body that is not JSON, or a field of the wrong type,
//! is refused.
//!
//! Sources: `../shared/domain/spider-api.md` sections 1.2-1.5 (`SP@HEAD` resource structs,
//! `VMRest.go`, `VPC-SubnetRest.go`, `CIMRest.go`).

use serde::{Deserialize, Serialize};

/// `{"NameId": <user name>, "SystemId": <CSP id>}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IId {
    #[serde(rename = "NameId", default)]
    pub name_id: String,
    #[serde(rename = "SystemId", default)]
    pub system_id: String,
}

impl IId {
    pub fn new(name: &str, system: &str) -> Self {
        IId {
            name_id: name.to_string(),
            system_id: system.to_string(),
        }
    }
}

/// `{"Key": .., "Value": ..}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyValue {
    #[serde(rename = "Key", default)]
    pub key: String,
    #[serde(rename = "Value", default)]
    pub value: String,
}

pub fn kv(key: &str, value: impl Into<String>) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: value.into(),
    }
}

// ------------------------------------------------------------------------------------------
// Cloud info (CIM): drivers, credentials, regions, connection configs.
// ------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DriverInfo {
    #[serde(rename = "DriverName", default)]
    pub driver_name: String,
    #[serde(rename = "ProviderName", default)]
    pub provider_name: String,
    #[serde(rename = "DriverLibFileName", default)]
    pub driver_lib_file_name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CredentialInfo {
    #[serde(rename = "CredentialName", default)]
    pub credential_name: String,
    #[serde(rename = "ProviderName", default)]
    pub provider_name: String,
    #[serde(rename = "KeyValueInfoList", default)]
    pub key_value_info_list: Vec<KeyValue>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RegionInfo {
    #[serde(rename = "RegionName", default)]
    pub region_name: String,
    #[serde(rename = "ProviderName", default)]
    pub provider_name: String,
    #[serde(rename = "KeyValueInfoList", default)]
    pub key_value_info_list: Vec<KeyValue>,
    #[serde(rename = "AvailableZoneList", default)]
    pub available_zone_list: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectionConfigInfo {
    #[serde(rename = "ConfigName", default)]
    pub config_name: String,
    #[serde(rename = "ProviderName", default)]
    pub provider_name: String,
    #[serde(rename = "DriverName", default)]
    pub driver_name: String,
    #[serde(rename = "CredentialName", default)]
    pub credential_name: String,
    #[serde(rename = "RegionName", default)]
    pub region_name: String,
}

/// The value of `key` in a key-value list (keys compared case-insensitively, as Spider's
/// drivers look them up).
pub fn value_of<'a>(list: &'a [KeyValue], key: &str) -> Option<&'a str> {
    list.iter()
        .find(|k| k.key.eq_ignore_ascii_case(key))
        .map(|k| k.value.as_str())
}

// ------------------------------------------------------------------------------------------
// Request envelopes.
// ------------------------------------------------------------------------------------------

/// `{"ConnectionName": ..}` (GET and DELETE bodies).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ConnectionOnly {
    #[serde(rename = "ConnectionName", default)]
    pub connection_name: String,
}

/// `{"ConnectionName": .., "IDTransformMode": .., "ReqInfo": {..}}`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Envelope<T> {
    #[serde(rename = "ConnectionName", default)]
    pub connection_name: String,
    #[serde(rename = "ReqInfo")]
    pub req_info: Option<T>,
}

// ------------------------------------------------------------------------------------------
// VPC and subnets, security groups, key pairs.
// ------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SubnetReq {
    #[serde(rename = "Name", default)]
    pub name: String,
    #[serde(rename = "Zone", default)]
    pub zone: String,
    #[serde(rename = "IPv4_CIDR", default)]
    pub ipv4_cidr: String,
    #[serde(rename = "TagList", default)]
    pub tag_list: Vec<KeyValue>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct VpcReq {
    #[serde(rename = "Name", default)]
    pub name: String,
    #[serde(rename = "IPv4_CIDR", default)]
    pub ipv4_cidr: String,
    #[serde(rename = "SubnetInfoList", default)]
    pub subnet_info_list: Vec<SubnetReq>,
    #[serde(rename = "TagList", default)]
    pub tag_list: Vec<KeyValue>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SubnetInfo {
    #[serde(rename = "IId")]
    pub iid: IId,
    #[serde(rename = "Zone")]
    pub zone: String,
    #[serde(rename = "IPv4_CIDR")]
    pub ipv4_cidr: String,
    #[serde(rename = "TagList")]
    pub tag_list: Vec<KeyValue>,
    #[serde(rename = "KeyValueList")]
    pub key_value_list: Vec<KeyValue>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct VpcInfo {
    #[serde(rename = "IId")]
    pub iid: IId,
    #[serde(rename = "IPv4_CIDR")]
    pub ipv4_cidr: String,
    #[serde(rename = "SubnetInfoList")]
    pub subnet_info_list: Vec<SubnetInfo>,
    #[serde(rename = "TagList")]
    pub tag_list: Vec<KeyValue>,
    #[serde(rename = "KeyValueList")]
    pub key_value_list: Vec<KeyValue>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SecurityRule {
    #[serde(rename = "Direction", default)]
    pub direction: String,
    #[serde(rename = "IPProtocol", default)]
    pub ip_protocol: String,
    #[serde(rename = "FromPort", default)]
    pub from_port: String,
    #[serde(rename = "ToPort", default)]
    pub to_port: String,
    #[serde(rename = "CIDR", default)]
    pub cidr: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct SecurityReq {
    #[serde(rename = "Name", default)]
    pub name: String,
    #[serde(rename = "VPCName", default)]
    pub vpc_name: String,
    #[serde(rename = "SecurityRules", default)]
    pub security_rules: Vec<SecurityRule>,
    #[serde(rename = "TagList", default)]
    pub tag_list: Vec<KeyValue>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SecurityInfo {
    #[serde(rename = "IId")]
    pub iid: IId,
    #[serde(rename = "VpcIID")]
    pub vpc_iid: IId,
    #[serde(rename = "SecurityRules")]
    pub security_rules: Vec<SecurityRule>,
    #[serde(rename = "TagList")]
    pub tag_list: Vec<KeyValue>,
    #[serde(rename = "KeyValueList")]
    pub key_value_list: Vec<KeyValue>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct KeyPairReq {
    #[serde(rename = "Name", default)]
    pub name: String,
    #[serde(rename = "TagList", default)]
    pub tag_list: Vec<KeyValue>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct KeyPairInfo {
    #[serde(rename = "IId")]
    pub iid: IId,
    #[serde(rename = "Fingerprint")]
    pub fingerprint: String,
    #[serde(rename = "PublicKey")]
    pub public_key: String,
    #[serde(rename = "PrivateKey")]
    pub private_key: String,
    #[serde(rename = "VMUserID")]
    pub vm_user_id: String,
    #[serde(rename = "TagList")]
    pub tag_list: Vec<KeyValue>,
    #[serde(rename = "KeyValueList")]
    pub key_value_list: Vec<KeyValue>,
}

// ------------------------------------------------------------------------------------------
// Images, specs, regions and zones.
// ------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ImageInfo {
    #[serde(rename = "IId")]
    pub iid: IId,
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "OSArchitecture")]
    pub os_architecture: String,
    #[serde(rename = "OSPlatform")]
    pub os_platform: String,
    #[serde(rename = "OSDistribution")]
    pub os_distribution: String,
    #[serde(rename = "OSDiskType")]
    pub os_disk_type: String,
    #[serde(rename = "OSDiskSizeGB")]
    pub os_disk_size_gb: String,
    #[serde(rename = "ImageStatus")]
    pub image_status: String,
    #[serde(rename = "KeyValueList")]
    pub key_value_list: Vec<KeyValue>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct VCpu {
    #[serde(rename = "Count")]
    pub count: String,
    #[serde(rename = "ClockGHz")]
    pub clock_ghz: String,
}

/// Every number is a string in Spider's spec info, `-1` where not applicable.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct VmSpecInfo {
    #[serde(rename = "Region")]
    pub region: String,
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "VCpu")]
    pub vcpu: VCpu,
    #[serde(rename = "MemSizeMiB")]
    pub mem_size_mib: String,
    #[serde(rename = "DiskSizeGB")]
    pub disk_size_gb: String,
    #[serde(rename = "Gpu")]
    pub gpu: Vec<serde_json::Value>,
    #[serde(rename = "KeyValueList")]
    pub key_value_list: Vec<KeyValue>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ZoneInfo {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "DisplayName")]
    pub display_name: String,
    #[serde(rename = "CSPDisplayName")]
    pub csp_display_name: String,
    #[serde(rename = "Status")]
    pub status: String,
    #[serde(rename = "KeyValueList")]
    pub key_value_list: Vec<KeyValue>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RegionZoneInfo {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "DisplayName")]
    pub display_name: String,
    #[serde(rename = "CSPDisplayName")]
    pub csp_display_name: String,
    #[serde(rename = "ZoneList")]
    pub zone_list: Vec<ZoneInfo>,
    #[serde(rename = "KeyValueList")]
    pub key_value_list: Vec<KeyValue>,
}

// ------------------------------------------------------------------------------------------
// VMs.
// ------------------------------------------------------------------------------------------

/// `VMStartRequest.ReqInfo`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct VmReq {
    #[serde(rename = "Name", default)]
    pub name: String,
    #[serde(rename = "ImageType", default)]
    pub image_type: String,
    #[serde(rename = "ImageName", default)]
    pub image_name: String,
    #[serde(rename = "VMSpecName", default)]
    pub vm_spec_name: String,
    #[serde(rename = "VPCName", default)]
    pub vpc_name: String,
    #[serde(rename = "SubnetName", default)]
    pub subnet_name: String,
    #[serde(rename = "SecurityGroupNames", default)]
    pub security_group_names: Vec<String>,
    #[serde(rename = "KeyPairName", default)]
    pub key_pair_name: String,
    #[serde(rename = "RootDiskType", default)]
    pub root_disk_type: String,
    #[serde(rename = "RootDiskSize", default)]
    pub root_disk_size: String,
    #[serde(rename = "VMUserId", default)]
    pub vm_user_id: String,
    #[serde(rename = "VMUserPasswd", default)]
    pub vm_user_passwd: String,
    #[serde(rename = "TagList", default)]
    pub tag_list: Vec<KeyValue>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RegionRef {
    #[serde(rename = "Region")]
    pub region: String,
    #[serde(rename = "Zone")]
    pub zone: String,
}

/// `VMInfo` (`SP@HEAD:…/resources/VMHandler.go:100-150`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct VmInfo {
    #[serde(rename = "IId")]
    pub iid: IId,
    #[serde(rename = "StartTime")]
    pub start_time: String,
    #[serde(rename = "Region")]
    pub region: RegionRef,
    #[serde(rename = "ImageType")]
    pub image_type: String,
    #[serde(rename = "ImageIId")]
    pub image_iid: IId,
    #[serde(rename = "VMSpecName")]
    pub vm_spec_name: String,
    #[serde(rename = "VpcIID")]
    pub vpc_iid: IId,
    #[serde(rename = "SubnetIID")]
    pub subnet_iid: IId,
    #[serde(rename = "SecurityGroupIIds")]
    pub security_group_iids: Vec<IId>,
    #[serde(rename = "KeyPairIId")]
    pub key_pair_iid: IId,
    #[serde(rename = "RootDiskType")]
    pub root_disk_type: String,
    #[serde(rename = "RootDiskSize")]
    pub root_disk_size: String,
    #[serde(rename = "RootDeviceName")]
    pub root_device_name: String,
    #[serde(rename = "DataDiskIIDs")]
    pub data_disk_iids: Vec<IId>,
    #[serde(rename = "VMBootDisk")]
    pub vm_boot_disk: String,
    #[serde(rename = "VMBlockDisk")]
    pub vm_block_disk: String,
    #[serde(rename = "VMUserId")]
    pub vm_user_id: String,
    #[serde(rename = "VMUserPasswd")]
    pub vm_user_passwd: String,
    #[serde(rename = "NetworkInterface")]
    pub network_interface: String,
    #[serde(rename = "PublicIP")]
    pub public_ip: String,
    #[serde(rename = "PublicIPs")]
    pub public_ips: Vec<String>,
    #[serde(rename = "PublicDNS")]
    pub public_dns: String,
    #[serde(rename = "PrivateIP")]
    pub private_ip: String,
    #[serde(rename = "PrivateIPs")]
    pub private_ips: Vec<String>,
    #[serde(rename = "PrivateDNS")]
    pub private_dns: String,
    #[serde(rename = "Platform")]
    pub platform: String,
    #[serde(rename = "SSHAccessPoint")]
    pub ssh_access_point: String,
    #[serde(rename = "AccessPoint")]
    pub access_point: String,
    #[serde(rename = "TagList")]
    pub tag_list: Vec<KeyValue>,
    #[serde(rename = "KeyValueList")]
    pub key_value_list: Vec<KeyValue>,
}

/// One entry of `GET /vmstatus`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct VmStatusInfo {
    #[serde(rename = "IId")]
    pub iid: IId,
    #[serde(rename = "VmStatus")]
    pub vm_status: String,
}
