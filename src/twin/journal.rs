//! The journal of a served session (`api_journal.jsonl`): one JSON object per line, in the
//! order things happened. `start` gives what the session's answers depend on beyond the
//! scenario (the epoch of simulated time); every `request` carries its simulated arrival time,
//! so `cloudtwin replay` submits the same requests at the same times; every `answer` the
//! status it got (a replay checks they agree); `end` when the session stopped. Wall-clock
//! figures (real latency, lag) are kept out, so replaying a journal gives the same bytes.

use super::request::ApiRequest;
use crate::engine::SimTime;
use serde::{Deserialize, Serialize};

/// The journal format's version.
pub const VERSION: u32 = 1;

/// One line of the journal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Line {
    Start {
        version: u32,
        /// Unix time (s) of simulated time 0.
        epoch_s: u64,
        /// Simulated seconds per wall second while served.
        speed: f64,
    },
    Request {
        id: u64,
        /// Simulated arrival time, ns.
        t_ns: u64,
        #[serde(flatten)]
        req: ApiRequest,
    },
    Answer {
        id: u64,
        t_ns: u64,
        status: u16,
    },
    End {
        t_ns: u64,
    },
}

impl Line {
    pub fn request(id: u64, at: SimTime, req: ApiRequest) -> Line {
        Line::Request {
            id,
            t_ns: at.as_nanos(),
            req,
        }
    }

    /// The line as JSON text with its newline.
    pub fn to_json_line(&self) -> String {
        let mut s = serde_json::to_string(self).expect("journal lines serialize");
        s.push('\n');
        s
    }
}

/// A whole journal read back.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Journal {
    pub epoch_s: u64,
    pub speed: f64,
    /// (id, arrival, request) in arrival order.
    pub requests: Vec<(u64, SimTime, ApiRequest)>,
    /// (id, answered at, status) in the order given.
    pub answers: Vec<(u64, SimTime, u16)>,
    pub end: Option<SimTime>,
}

impl Journal {
    /// Parses journal text; an error names the line.
    pub fn parse(text: &str) -> Result<Journal, String> {
        let mut j = Journal::default();
        let mut last = SimTime::ZERO;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let at = |m: String| format!("line {}: {m}", i + 1);
            let l: Line = serde_json::from_str(line).map_err(|e| at(e.to_string()))?;
            match l {
                Line::Start {
                    version,
                    epoch_s,
                    speed,
                } => {
                    if version != VERSION {
                        return Err(at(format!(
                            "journal version {version}, this cloudtwin reads {VERSION}"
                        )));
                    }
                    j.epoch_s = epoch_s;
                    j.speed = speed;
                }
                Line::Request { id, t_ns, req } => {
                    let t = SimTime(t_ns);
                    if t < last {
                        return Err(at("requests are not in time order".into()));
                    }
                    last = t;
                    j.requests.push((id, t, req));
                }
                Line::Answer { id, t_ns, status } => j.answers.push((id, SimTime(t_ns), status)),
                Line::End { t_ns } => j.end = Some(SimTime(t_ns)),
            }
        }
        Ok(j)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip() {
        let lines = [
            Line::Start {
                version: VERSION,
                epoch_s: 7,
                speed: 60.0,
            },
            Line::request(
                1,
                SimTime(5),
                ApiRequest::new("GET", "/spider/vm", "a=b", "{}"),
            ),
            Line::Answer {
                id: 1,
                t_ns: 5,
                status: 200,
            },
            Line::End { t_ns: 9 },
        ];
        let text: String = lines.iter().map(Line::to_json_line).collect();
        let j = Journal::parse(&text).unwrap();
        assert_eq!((j.epoch_s, j.speed, j.end), (7, 60.0, Some(SimTime(9))));
        assert_eq!(j.requests[0].2.query, "a=b");
        assert_eq!(j.answers, vec![(1, SimTime(5), 200)]);
        assert!(
            Journal::parse("{\"kind\":\"nope\"}")
                .unwrap_err()
                .starts_with("line 1")
        );
    }
}
