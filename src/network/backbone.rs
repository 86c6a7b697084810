//! The backbone graph: major interconnection hubs and the cable corridors between them.
//!
//! Long paths between regions do not follow the great circle: they run along submarine and
//! long-haul cables between a few interconnection hubs (Cape Town to Singapore goes through
//! Europe; Sao Paulo to Tokyo through North America). A pair farther apart than
//! `routing.direct_km` is routed through this graph: each region enters it at its nearest hub, or
//! any hub at most `routing.access_margin_km` farther, and the path length is the shortest
//! access + hub-to-hub + access sum. A hub marked `transit` (a crossing with no cloud hand-off,
//! e.g. where cables cross Egypt by land) carries paths but is never entered at. Corridors only
//! one provider's network is measured to use (`provider_links`) serve that provider's own pairs.
//! Shorter pairs take the great circle. Hub-to-hub distances are computed once per set of
//! corridors (Floyd-Warshall over great-circle link lengths), so a path costs a few lookups.
//! Links written `a~b` are submarine cables, `a-b` terrestrial; a path also reports how many of
//! its km are submarine: a cable's length over the great circle between its landings is the
//! same for every path it carries, while the detours of land routes and metro loops weigh more
//! on short paths (the model stretches the two differently: `stretch.sea`, `stretch.far/near`).

use crate::topology::great_circle_km;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `[backbone]` in `models/latency.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackboneSpec {
    pub hubs: Vec<HubSpec>,
    /// Corridors as `"a-b"` (terrestrial) or `"a~b"` (submarine), by hub names.
    pub links: Vec<String>,
    /// Corridors only one provider's network is measured to use, by provider: its own pairs
    /// take them, pairs of two providers do not. Same syntax as `links`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub provider_links: BTreeMap<String, Vec<String>>,
}

/// One hub: a short name and metro coordinates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubSpec {
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    /// A crossing that paths run through but no region enters at (e.g. a cable landing with no
    /// cloud hand-off nearby): never an access hub.
    #[serde(default, skip_serializing_if = "is_false")]
    pub transit: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// `[routing]`: when and how pairs are routed through the backbone.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Routing {
    /// Pairs at most this far apart (km) take the great-circle path.
    pub direct_km: f64,
    /// A region enters the backbone at its nearest hub or any hub at most this much farther (km).
    pub access_margin_km: f64,
}

/// The hub graph with all-pairs shortest hub-to-hub distances (km).
#[derive(Clone, Debug)]
pub struct Backbone {
    names: Vec<String>,
    coords: Vec<(f64, f64)>,
    /// Hubs a region may enter at (not `transit`).
    access: Vec<bool>,
    /// The corridors every provider uses.
    shared: Distances,
    /// The shared corridors and one provider's own, by provider.
    own: BTreeMap<String, Distances>,
}

/// All-pairs shortest paths of one set of corridors.
#[derive(Clone, Debug)]
struct Distances {
    /// `dist[i * n + j]`: shortest path from hub i to hub j along the links.
    dist: Vec<f64>,
    /// `sea[i * n + j]`: the submarine km of that path.
    sea: Vec<f64>,
}

/// One corridor: its hubs, great-circle length and whether it is submarine.
#[derive(Clone, Copy, Debug)]
struct Link {
    i: usize,
    j: usize,
    km: f64,
    submarine: bool,
}

impl Distances {
    /// Floyd-Warshall over the links (the shorter of two links between the same hubs).
    fn new(n: usize, links: &[Link]) -> Self {
        let mut dist = vec![f64::INFINITY; n * n];
        let mut sea = vec![0.0; n * n];
        for i in 0..n {
            dist[i * n + i] = 0.0;
        }
        for l in links {
            if l.km < dist[l.i * n + l.j] {
                let s = if l.submarine { l.km } else { 0.0 };
                dist[l.i * n + l.j] = l.km;
                dist[l.j * n + l.i] = l.km;
                sea[l.i * n + l.j] = s;
                sea[l.j * n + l.i] = s;
            }
        }
        for k in 0..n {
            for i in 0..n {
                let dik = dist[i * n + k];
                if dik.is_infinite() {
                    continue;
                }
                for j in 0..n {
                    let via = dik + dist[k * n + j];
                    if via < dist[i * n + j] {
                        dist[i * n + j] = via;
                        sea[i * n + j] = sea[i * n + k] + sea[k * n + j];
                    }
                }
            }
        }
        Distances { dist, sea }
    }
}

/// A routed path between two points (km).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Path {
    /// Whole length: great circle, or access + hub-to-hub + access.
    pub km: f64,
    /// Of which on submarine links (0 for direct paths and access legs).
    pub sea_km: f64,
}

impl Backbone {
    /// Builds the graph, checking that names are unique, links name known hubs and every hub is
    /// reachable from every other.
    pub fn new(spec: &BackboneSpec) -> Result<Self, String> {
        let n = spec.hubs.len();
        let mut names: Vec<String> = Vec::with_capacity(n);
        let mut coords = Vec::with_capacity(n);
        if n > 0 && spec.hubs.iter().all(|h| h.transit) {
            return Err(
                "backbone: every hub is `transit`, so no region can enter the graph".into(),
            );
        }
        for h in &spec.hubs {
            if names.contains(&h.name) {
                return Err(format!("backbone hub `{}` listed twice", h.name));
            }
            if !(-90.0..=90.0).contains(&h.lat) || !(-180.0..=180.0).contains(&h.lon) {
                return Err(format!(
                    "backbone hub `{}`: coordinates ({}, {}) out of range",
                    h.name, h.lat, h.lon
                ));
            }
            names.push(h.name.clone());
            coords.push((h.lat, h.lon));
        }
        let index = |name: &str, link: &str| {
            names
                .iter()
                .position(|x| x == name)
                .ok_or_else(|| format!("backbone link `{link}`: unknown hub `{name}`"))
        };
        let parse = |links: &[String]| -> Result<Vec<Link>, String> {
            links
                .iter()
                .map(|link| {
                    let (a, b, submarine) = match (link.split_once('-'), link.split_once('~')) {
                        (Some((a, b)), None) => (a, b, false),
                        (None, Some((a, b))) => (a, b, true),
                        _ => {
                            return Err(format!(
                                "backbone link `{link}` is not `hub-hub` (land) or `hub~hub` \
                                 (submarine)"
                            ));
                        }
                    };
                    let (i, j) = (index(a.trim(), link)?, index(b.trim(), link)?);
                    if i == j {
                        return Err(format!("backbone link `{link}` joins a hub to itself"));
                    }
                    let km = great_circle_km(coords[i].0, coords[i].1, coords[j].0, coords[j].1);
                    Ok(Link {
                        i,
                        j,
                        km,
                        submarine,
                    })
                })
                .collect()
        };
        let links = parse(&spec.links)?;
        let shared = Distances::new(n, &links);
        let mut own = BTreeMap::new();
        for (provider, extra) in &spec.provider_links {
            own.insert(provider.clone(), parse(extra)?);
        }
        // A hub only some provider's corridors reach must be transit (a region entering there
        // would have no path on the others' networks); the shared graph need not reach it.
        let mut on_shared = vec![false; n];
        for l in &links {
            on_shared[l.i] = true;
            on_shared[l.j] = true;
        }
        let mut provider_only = vec![false; n];
        for (provider, extra) in &own {
            for l in extra {
                for h in [l.i, l.j] {
                    if on_shared[h] {
                        continue;
                    }
                    if !spec.hubs[h].transit {
                        return Err(format!(
                            "backbone hub `{}` is reached only by provider_links.{provider}: \
                             mark it `transit = true` or link it in `links`",
                            names[h]
                        ));
                    }
                    provider_only[h] = true;
                }
            }
        }
        if let Some(p) = (0..n * n).find(|&p| {
            shared.dist[p].is_infinite() && !provider_only[p / n] && !provider_only[p % n]
        }) {
            return Err(format!(
                "backbone: hub `{}` cannot reach hub `{}` (the link graph is not connected)",
                names[p / n],
                names[p % n]
            ));
        }
        let own = own
            .into_iter()
            .map(|(p, extra)| {
                let mut all = links.clone();
                all.extend(extra);
                (p, Distances::new(n, &all))
            })
            .collect();
        Ok(Backbone {
            names,
            access: spec.hubs.iter().map(|h| !h.transit).collect(),
            coords,
            shared,
            own,
        })
    }

    pub fn hub_names(&self) -> &[String] {
        &self.names
    }

    /// Length (km) of the path between two points (see [`Backbone::route`]).
    pub fn path_km(&self, a: (f64, f64), b: (f64, f64), routing: &Routing) -> f64 {
        self.route(a, b, routing).km
    }

    /// The path between two points over the corridors every provider uses (see
    /// [`Backbone::route_between`]).
    pub fn route(&self, a: (f64, f64), b: (f64, f64), routing: &Routing) -> Path {
        self.route_on(&self.shared, a, b, routing)
    }

    /// The path between a region of provider `pa` at `a` and one of `pb` at `b`: the great
    /// circle up to `direct_km`, else the shortest route through the hubs (never shorter than
    /// the great circle), with its submarine km. Two regions of one provider may take its own
    /// corridors; a pair of two providers takes the shared ones (the model does not know which
    /// network carries it, and the measured cross-provider paths do not show either's).
    pub fn route_between(
        &self,
        a: (f64, f64),
        b: (f64, f64),
        routing: &Routing,
        pa: &str,
        pb: &str,
    ) -> Path {
        let g = if pa == pb { self.own.get(pa) } else { None };
        self.route_on(g.unwrap_or(&self.shared), a, b, routing)
    }

    fn route_on(&self, g: &Distances, a: (f64, f64), b: (f64, f64), routing: &Routing) -> Path {
        let d = great_circle_km(a.0, a.1, b.0, b.1);
        let direct = Path { km: d, sea_km: 0.0 };
        if d <= routing.direct_km || self.names.is_empty() {
            return direct;
        }
        let n = self.names.len();
        let (ea, eb) = (
            self.access(a, routing.access_margin_km),
            self.access(b, routing.access_margin_km),
        );
        let mut best = Path {
            km: f64::INFINITY,
            sea_km: 0.0,
        };
        for &(i, da) in &ea {
            for &(j, db) in &eb {
                let km = da + g.dist[i * n + j] + db;
                if km < best.km {
                    best = Path {
                        km,
                        sea_km: g.sea[i * n + j],
                    };
                }
            }
        }
        if best.km < d { direct } else { best }
    }

    /// Hubs a point enters the backbone at: the nearest and any at most `margin` km farther
    /// (transit hubs excluded).
    fn access(&self, p: (f64, f64), margin: f64) -> Vec<(usize, f64)> {
        let ds: Vec<(usize, f64)> = self
            .coords
            .iter()
            .enumerate()
            .filter(|&(i, _)| self.access[i])
            .map(|(i, c)| (i, great_circle_km(p.0, p.1, c.0, c.1)))
            .collect();
        let nearest = ds.iter().map(|&(_, d)| d).fold(f64::INFINITY, f64::min);
        ds.into_iter()
            .filter(|&(_, d)| d <= nearest + margin)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub(name: &str, lat: f64, lon: f64) -> HubSpec {
        HubSpec {
            name: name.into(),
            lat,
            lon,
            transit: false,
        }
    }

    #[test]
    fn detours_follow_the_links() {
        // Three hubs in a line along the equator, linked a-b-c, plus d off to the north linked
        // only to c: going from near a to near d must pass through c.
        let spec = BackboneSpec {
            hubs: vec![
                hub("a", 0.0, 0.0),
                hub("b", 0.0, 30.0),
                hub("c", 0.0, 60.0),
                hub("d", 40.0, 10.0),
            ],
            links: vec!["a-b".into(), "b~c".into(), "c-d".into()],
            provider_links: BTreeMap::new(),
        };
        let g = Backbone::new(&spec).unwrap();
        let r = Routing {
            direct_km: 1000.0,
            access_margin_km: 0.0,
        };
        let direct = great_circle_km(0.0, 0.0, 40.0, 10.0);
        let routed = g.path_km((0.0, 0.0), (40.0, 10.0), &r);
        let expect = great_circle_km(0.0, 0.0, 0.0, 60.0) + great_circle_km(0.0, 60.0, 40.0, 10.0);
        assert!((routed - expect).abs() < 1e-6, "{routed} vs {expect}");
        assert!(routed > direct);
        // Of which b~c is submarine.
        let sea = g.route((0.0, 0.0), (40.0, 10.0), &r).sea_km;
        let expect_sea = great_circle_km(0.0, 30.0, 0.0, 60.0);
        assert!((sea - expect_sea).abs() < 1e-6, "{sea} vs {expect_sea}");
        // Short pairs go direct.
        let near = g.path_km((0.0, 0.0), (0.0, 5.0), &r);
        assert!((near - great_circle_km(0.0, 0.0, 0.0, 5.0)).abs() < 1e-9);
    }

    #[test]
    fn regions_do_not_enter_at_transit_hubs() {
        // p sits next to t; q on c, which is linked only to a. With t an ordinary hub p enters
        // there and goes t-a-c; with t transit p enters at its nearest other hub, c itself.
        let mut spec = BackboneSpec {
            hubs: vec![
                hub("a", 0.0, 0.0),
                hub("t", 0.0, 10.0),
                hub("b", 0.0, 30.0),
                hub("c", 10.0, 10.0),
            ],
            links: vec!["a-t".into(), "t-b".into(), "a-c".into()],
            provider_links: BTreeMap::new(),
        };
        let r = Routing {
            direct_km: 100.0,
            access_margin_km: 0.0,
        };
        let (p, q) = ((0.0, 11.0), (10.0, 10.0));
        let gc = |x: (f64, f64), y: (f64, f64)| great_circle_km(x.0, x.1, y.0, y.1);
        let via_t = gc(p, (0.0, 10.0)) + gc((0.0, 10.0), (0.0, 0.0)) + gc((0.0, 0.0), q);
        let open = Backbone::new(&spec).unwrap().path_km(p, q, &r);
        assert!((open - via_t).abs() < 1e-6, "{open} vs {via_t}");
        spec.hubs[1].transit = true;
        let closed = Backbone::new(&spec).unwrap().path_km(p, q, &r);
        assert!((closed - gc(p, q)).abs() < 1e-6, "{closed} vs {}", gc(p, q));
        // A graph of transit hubs only is refused.
        for h in &mut spec.hubs {
            h.transit = true;
        }
        let e = Backbone::new(&spec).unwrap_err();
        assert!(e.contains("transit"), "{e}");
    }

    #[test]
    fn provider_links_serve_that_providers_own_pairs() {
        // a and c are linked through b, far to the north; x's own corridor a~t~c goes straight
        // along the equator through transit hub t, which only x's corridors reach.
        let mut t = hub("t", 0.0, 20.0);
        t.transit = true;
        let spec = BackboneSpec {
            hubs: vec![
                hub("a", 0.0, 0.0),
                hub("b", 40.0, 20.0),
                hub("c", 0.0, 40.0),
                t,
            ],
            links: vec!["a-b".into(), "b-c".into()],
            provider_links: BTreeMap::from([("x".into(), vec!["a~t".into(), "t~c".into()])]),
        };
        let g = Backbone::new(&spec).unwrap();
        let r = Routing {
            direct_km: 100.0,
            access_margin_km: 0.0,
        };
        let gc = |x: (f64, f64), y: (f64, f64)| great_circle_km(x.0, x.1, y.0, y.1);
        let (p, q) = ((0.0, 0.0), (0.0, 40.0));
        let north = gc(p, (40.0, 20.0)) + gc((40.0, 20.0), q);
        let own = g.route_between(p, q, &r, "x", "x");
        assert!((own.km - gc(p, q)).abs() < 1e-6, "{own:?}");
        assert!((own.sea_km - gc(p, q)).abs() < 1e-6, "{own:?}");
        for (pa, pb) in [("y", "y"), ("x", "y"), ("y", "x")] {
            let other = g.route_between(p, q, &r, pa, pb);
            assert!((other.km - north).abs() < 1e-6, "{pa}-{pb}: {other:?}");
            assert_eq!(other.sea_km, 0.0);
        }
        assert_eq!(g.route(p, q, &r), g.route_between(p, q, &r, "y", "y"));
        // A hub only a provider's corridors reach must be transit; links must name known hubs.
        let mut open = spec.clone();
        open.hubs[3].transit = false;
        let e = Backbone::new(&open).unwrap_err();
        assert!(
            e.contains("provider_links.x") && e.contains("transit"),
            "{e}"
        );
        let mut unknown = spec.clone();
        unknown
            .provider_links
            .insert("z".into(), vec!["a~nowhere".into()]);
        let e = Backbone::new(&unknown).unwrap_err();
        assert!(e.contains("unknown hub `nowhere`"), "{e}");
    }

    #[test]
    fn bad_graphs_are_rejected() {
        let two = vec![hub("a", 0.0, 0.0), hub("b", 1.0, 1.0)];
        let spec = |links: &[&str], hubs: Vec<HubSpec>| BackboneSpec {
            hubs,
            links: links.iter().map(|s| s.to_string()).collect(),
            provider_links: BTreeMap::new(),
        };
        assert!(Backbone::new(&spec(&["a-b"], two.clone())).is_ok());
        let e = Backbone::new(&spec(&[], two.clone())).unwrap_err();
        assert!(e.contains("not connected"), "{e}");
        let e = Backbone::new(&spec(&["a-x"], two.clone())).unwrap_err();
        assert!(e.contains("unknown hub `x`"), "{e}");
        assert!(Backbone::new(&spec(&["ab"], two.clone())).is_err());
        assert!(Backbone::new(&spec(&["a~b"], two.clone())).is_ok());
        assert!(Backbone::new(&spec(&["a-~b"], two.clone())).is_err());
        assert!(Backbone::new(&spec(&["a-a", "a-b"], two.clone())).is_err());
        let dup = vec![hub("a", 0.0, 0.0), hub("a", 1.0, 1.0)];
        assert!(Backbone::new(&spec(&["a-a"], dup)).is_err());
    }
}
