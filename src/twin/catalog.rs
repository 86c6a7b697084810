//! The images and VM specs the twin's CB-Spider API offers: `models/twin.toml` for the
//! emulated clouds (Spider's mock driver, Cloud-Twin) and representative images of real
//! providers; real providers' specs from `models/specs.csv`, region by region.
//!
//! Sources: `models/twin.toml` (provenance per entry), `models/specs.csv`.

use super::wire::{ImageInfo, VCpu, VmSpecInfo, kv};
use crate::topology::specs::{SpecCatalogue, VmSpec};
use serde::Deserialize;

/// The catalogue shipped in `models/twin.toml`.
pub const BUILTIN_TWIN_TOML: &str = include_str!("../../models/twin.toml");

/// Providers whose clouds the twin emulates rather than locates in the region catalogue.
pub const EMULATED: [&str; 2] = ["mock", "cloudtwin"];

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageEntry {
    provider: String,
    name: String,
    architecture: String,
    platform: String,
    distribution: String,
    disk_type: String,
    disk_gb: u32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecEntry {
    provider: String,
    name: String,
    vcpu: u32,
    clock_ghz: f64,
    memory_mib: u64,
    #[serde(default)]
    gpu: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    image: Vec<ImageEntry>,
    #[serde(default)]
    spec: Vec<SpecEntry>,
}

/// Images and specs by provider.
#[derive(Clone, Debug)]
pub struct Catalog {
    images: Vec<ImageEntry>,
    specs: Vec<SpecEntry>,
    region_specs: SpecCatalogue,
}

impl Catalog {
    pub fn builtin() -> Self {
        let f: File = toml::from_str(BUILTIN_TWIN_TOML).expect("models/twin.toml is valid");
        Catalog {
            images: f.image,
            specs: f.spec,
            region_specs: SpecCatalogue::builtin(),
        }
    }

    /// Whether clouds of `provider` are emulated (MOCK, CLOUDTWIN).
    pub fn is_emulated(provider: &str) -> bool {
        EMULATED.contains(&provider)
    }

    /// `GET /vmimage`: the provider's listed images.
    pub fn images(&self, provider: &str) -> Vec<ImageInfo> {
        self.images
            .iter()
            .filter(|i| i.provider == provider)
            .map(image_info)
            .collect()
    }

    /// `GET /vmimage/{name}`: an emulated cloud's listed image, or for a real provider any
    /// name (its CSP image ids are not modelled: the twin takes every one to exist).
    pub fn image(&self, provider: &str, name: &str) -> Option<ImageInfo> {
        if let Some(i) = self
            .images
            .iter()
            .find(|i| i.provider == provider && i.name == name)
        {
            return Some(image_info(i));
        }
        (!Self::is_emulated(provider) && !name.is_empty()).then(|| ImageInfo {
            iid: super::wire::IId::new(name, name),
            name: name.to_string(),
            os_architecture: "x86_64".into(),
            os_platform: "Linux/UNIX".into(),
            os_distribution: name.to_string(),
            os_disk_type: "default".into(),
            os_disk_size_gb: "-1".into(),
            image_status: "Available".into(),
            key_value_list: vec![],
        })
    }

    /// The specs offered in a region, with the wire form of each.
    pub fn specs(&self, provider: &str, region: &str) -> Vec<(VmSpec, VmSpecInfo)> {
        if Self::is_emulated(provider) {
            return self
                .specs
                .iter()
                .filter(|s| s.provider == provider)
                .map(|s| {
                    let spec = VmSpec {
                        provider: provider.to_string(),
                        region: region.to_string(),
                        name: s.name.clone(),
                        vcpu: s.vcpu,
                        memory_gib: s.memory_mib as f64 / 1024.0,
                        cost_per_hour: 0.0,
                        score: None,
                    };
                    let info = VmSpecInfo {
                        region: region.to_string(),
                        name: s.name.clone(),
                        vcpu: VCpu {
                            count: s.vcpu.to_string(),
                            clock_ghz: s.clock_ghz.to_string(),
                        },
                        mem_size_mib: s.memory_mib.to_string(),
                        disk_size_gb: "-1".into(),
                        gpu: s
                            .gpu
                            .iter()
                            .map(|g| serde_json::json!({ "Model": g }))
                            .collect(),
                        key_value_list: vec![],
                    };
                    (spec, info)
                })
                .collect();
        }
        self.region_specs
            .in_region(provider, region)
            .map(|s| {
                let info = VmSpecInfo {
                    region: region.to_string(),
                    name: s.name.clone(),
                    vcpu: VCpu {
                        count: s.vcpu.to_string(),
                        clock_ghz: "-1".into(),
                    },
                    mem_size_mib: ((s.memory_gib * 1024.0).round() as u64).to_string(),
                    disk_size_gb: "-1".into(),
                    gpu: vec![],
                    key_value_list: vec![kv("CostPerHour", s.cost_per_hour.to_string())],
                };
                (s.clone(), info)
            })
            .collect()
    }

    /// One spec of a region by name.
    pub fn spec(&self, provider: &str, region: &str, name: &str) -> Option<(VmSpec, VmSpecInfo)> {
        self.specs(provider, region)
            .into_iter()
            .find(|(s, _)| s.name == name)
    }
}

fn image_info(i: &ImageEntry) -> ImageInfo {
    ImageInfo {
        iid: super::wire::IId::new(&i.name, &i.name),
        name: i.name.clone(),
        os_architecture: i.architecture.clone(),
        os_platform: i.platform.clone(),
        os_distribution: i.distribution.clone(),
        os_disk_type: i.disk_type.clone(),
        os_disk_size_gb: i.disk_gb.to_string(),
        image_status: "Available".into(),
        key_value_list: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emulated_and_real_catalogues() {
        let c = Catalog::builtin();
        assert_eq!(c.images("mock").len(), 5);
        assert!(c.image("mock", "mock-vmimage-01").is_some());
        assert!(
            c.image("mock", "ami-123").is_none(),
            "mock checks its images"
        );
        assert!(
            c.image("aws", "ami-123").is_some(),
            "real providers take any image"
        );
        assert_eq!(c.specs("mock", "default").len(), 4);
        let (s, info) = c.spec("mock", "default", "mock-vmspec-03").unwrap();
        assert_eq!((s.vcpu, info.mem_size_mib.as_str()), (8, "62464"));
        assert!(c.spec("aws", "us-east-1", "t2.medium").is_some());
        assert!(c.spec("aws", "us-east-1", "no-such").is_none());
    }
}
