//! What applying a tenant document changes: compares the stored document with the desired one
//! item by item (company, appointments, categories, outputs, presets, routes).

use std::collections::BTreeMap;
use std::fmt;

use crate::tenancy::tenant::{RouteKey, TenantSpec};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ItemRef {
    Company,
    /// The `appointments:` section, one item (branches, services, staff, calendars, policy).
    Appointments,
    Category(String),
    Output(String),
    Preset(String),
    Route(RouteKey),
}

impl fmt::Display for ItemRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ItemRef::Company => write!(f, "company configuration"),
            ItemRef::Appointments => write!(f, "appointments"),
            ItemRef::Category(s) => write!(f, "category {s}"),
            ItemRef::Output(s) => write!(f, "output {s}"),
            ItemRef::Preset(s) => write!(f, "preset {s}"),
            ItemRef::Route(RouteKey::Agent(a)) => write!(f, "route agent {a}"),
            ItemRef::Route(RouteKey::Phone(p)) => write!(f, "route phone {p}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Create,
    Change,
    Remove,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    pub item: ItemRef,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = match self.kind {
            ChangeKind::Create => "+ create",
            ChangeKind::Change => "~ change",
            ChangeKind::Remove => "- remove",
        };
        write!(f, "{sign} {}", self.item)
    }
}

/// Items are compared through their JSON form, so any field difference counts.
fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn items(spec: &TenantSpec) -> BTreeMap<ItemRef, String> {
    let mut map = BTreeMap::new();
    map.insert(ItemRef::Company, json(&spec.company));
    if let Some(appointments) = &spec.appointments {
        map.insert(ItemRef::Appointments, json(appointments));
    }
    for c in &spec.categories {
        map.insert(ItemRef::Category(c.slug.clone()), json(c));
    }
    for o in &spec.outputs {
        map.insert(ItemRef::Output(o.id.clone()), json(o));
    }
    for p in &spec.presets {
        map.insert(ItemRef::Preset(p.slug.clone()), json(p));
    }
    for r in spec.route_keys() {
        map.insert(ItemRef::Route(r), String::new());
    }
    map
}

/// The changes that turn `current` (None: nothing stored yet) into `desired`, in a stable order.
pub fn plan(current: Option<&TenantSpec>, desired: &TenantSpec) -> Vec<Change> {
    let before = current.map(items).unwrap_or_default();
    let after = items(desired);
    let mut changes = Vec::new();
    for (item, value) in &after {
        match before.get(item) {
            None => changes.push(Change {
                kind: ChangeKind::Create,
                item: item.clone(),
            }),
            Some(old) if old != value => changes.push(Change {
                kind: ChangeKind::Change,
                item: item.clone(),
            }),
            Some(_) => {}
        }
    }
    for item in before.keys().filter(|k| !after.contains_key(*k)) {
        changes.push(Change {
            kind: ChangeKind::Remove,
            item: item.clone(),
        });
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenancy::tenant::{Category, CompanyConfig, Routes};

    fn spec() -> TenantSpec {
        TenantSpec {
            company: CompanyConfig {
                company_id: "c".into(),
                name: "C".into(),
                ..Default::default()
            },
            routes: Routes {
                agents: vec!["a1".into()],
                phones: vec![],
            },
            categories: vec![Category {
                slug: "net".into(),
                ..Default::default()
            }],
            outputs: vec![],
            presets: vec![],
            appointments: None,
        }
    }

    #[test]
    fn first_apply_creates_everything_and_a_second_changes_nothing() {
        let s = spec();
        let first = plan(None, &s);
        assert_eq!(first.len(), 3);
        assert!(first.iter().all(|c| c.kind == ChangeKind::Create));
        assert!(plan(Some(&s), &s).is_empty());
    }

    fn with_appointments() -> TenantSpec {
        let mut s = spec();
        s.appointments = Some(
            serde_json::from_value(serde_json::json!({
                "calcom": {"api_key": "cal_test_abc"},
                "branches": [{"id": "main", "name": "Praxis", "opening_hours": {"mon": ["08:00-12:00"]}}],
                "services": [{"id": "kg", "name": "KG", "duration_minutes": 25, "calendar": {"calcom": {"event_type_id": 7}}}]
            }))
            .unwrap(),
        );
        s
    }

    fn lines(current: Option<&TenantSpec>, desired: &TenantSpec) -> Vec<String> {
        plan(current, desired).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn the_appointments_section_is_one_item() {
        let s = with_appointments();
        let first = lines(None, &s);
        assert_eq!(first.len(), 4);
        assert!(first.contains(&"+ create appointments".to_string()), "{first:?}");
        assert!(plan(Some(&s), &s).is_empty(), "re-applying changes nothing");
        assert_eq!(lines(Some(&spec()), &s), ["+ create appointments"]);

        let mut changed = s.clone();
        let a = changed.appointments.as_mut().unwrap();
        a.policy.cancel_notice_hours = 12;
        a.services[0].duration_minutes = 30;
        assert_eq!(lines(Some(&s), &changed), ["~ change appointments"]);

        assert_eq!(lines(Some(&s), &spec()), ["- remove appointments"]);
    }

    #[test]
    fn an_export_with_masked_secrets_plans_nothing_once_unmasked() {
        let stored = with_appointments();
        let mut exported = stored.clone();
        exported.appointments = stored.appointments.as_ref().map(|a| a.masked());
        assert_eq!(lines(Some(&stored), &exported), ["~ change appointments"]);
        exported
            .appointments
            .as_mut()
            .unwrap()
            .unmask_from(stored.appointments.as_ref().unwrap());
        assert!(plan(Some(&stored), &exported).is_empty());
    }

    #[test]
    fn changes_and_removals_are_itemised() {
        let old = spec();
        let mut new = spec();
        new.categories[0].threshold = 0.9;
        new.routes.agents = vec!["a2".into()];
        let changes: Vec<String> = plan(Some(&old), &new).iter().map(ToString::to_string).collect();
        assert_eq!(
            changes,
            [
                "~ change category net",
                "+ create route agent a2",
                "- remove route agent a1"
            ]
        );
    }
}
