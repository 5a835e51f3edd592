//! Field and collection names that suggest personal data. ajar never reads values, so the
//! name is all it has: `customer.email`, `phoneNumber`, `date_of_birth`, `geoip.location`.
//!
//! Names are split into lowercase words (on `_`, `-`, `.`, spaces and camelCase) and the
//! last path segment is matched by words and adjacent word pairs, so `email` and
//! `contact_email` match while `emailed_at`, `name` or `filename` do not.

use crate::finding::PiiHint;

/// Keyword table: a word (or two words joined) and the category it suggests.
const KEYWORDS: &[(&str, &str)] = &[
    ("email", "email"),
    ("emails", "email"),
    ("mail", "email"),
    ("emailaddress", "email"),
    ("phone", "phone"),
    ("phones", "phone"),
    ("phonenumber", "phone"),
    ("mobile", "phone"),
    ("msisdn", "phone"),
    ("telephone", "phone"),
    ("tel", "phone"),
    ("cellphone", "phone"),
    ("firstname", "name"),
    ("lastname", "name"),
    ("fullname", "name"),
    ("surname", "name"),
    ("givenname", "name"),
    ("familyname", "name"),
    ("middlename", "name"),
    ("maidenname", "name"),
    ("forename", "name"),
    ("address", "address"),
    ("addresses", "address"),
    ("streetaddress", "address"),
    ("street", "address"),
    ("zip", "address"),
    ("zipcode", "address"),
    ("postcode", "address"),
    ("postalcode", "address"),
    ("geo", "location"),
    ("geoip", "location"),
    ("geolocation", "location"),
    ("location", "location"),
    ("lat", "location"),
    ("lon", "location"),
    ("lng", "location"),
    ("latitude", "location"),
    ("longitude", "location"),
    ("coordinates", "location"),
    ("dob", "birth-date"),
    ("birthdate", "birth-date"),
    ("birthday", "birth-date"),
    ("dateofbirth", "birth-date"),
    ("password", "credential"),
    ("passwd", "credential"),
    ("pwd", "credential"),
    ("passwordhash", "credential"),
    ("secret", "credential"),
    ("apikey", "credential"),
    ("accesstoken", "credential"),
    ("authtoken", "credential"),
    ("ip", "ip"),
    ("ipaddress", "ip"),
    ("ipaddr", "ip"),
    ("ipv4", "ip"),
    ("ipv6", "ip"),
    ("remoteaddr", "ip"),
    ("clientip", "ip"),
    ("ssn", "government-id"),
    ("socialsecuritynumber", "government-id"),
    ("passport", "government-id"),
    ("passportnumber", "government-id"),
    ("nationalid", "government-id"),
    ("taxid", "government-id"),
    ("creditcard", "financial"),
    ("creditcardnumber", "financial"),
    ("cardnumber", "financial"),
    ("ccnumber", "financial"),
    ("iban", "financial"),
    ("cvv", "financial"),
    ("accountnumber", "financial"),
];

/// Collection or index names that suggest records about people.
const PEOPLE_COLLECTIONS: &[&str] = &[
    "users",
    "user",
    "customers",
    "customer",
    "accounts",
    "members",
    "patients",
    "employees",
    "contacts",
    "profiles",
    "clients",
    "subscribers",
    "people",
    "persons",
    "leads",
    "voters",
];

/// The category a field name suggests, if any.
pub fn classify_field(path: &str) -> Option<&'static str> {
    let last = path.rsplit('.').next().unwrap_or(path);
    let last_words = words(last);
    // Pairs and triples first, so `date_of_birth` and `first_name` win over single words.
    for width in [3, 2, 1] {
        for window in last_words.windows(width) {
            let joined: String = window.concat();
            if let Some((_, category)) = KEYWORDS.iter().find(|(k, _)| *k == joined) {
                return Some(category);
            }
        }
    }
    // A field called just `location`/`geo` under a parent was handled above; a parent
    // like `address.city` marks its children as address data.
    let parent = path.rsplit('.').nth(1)?;
    let parent_words = words(parent);
    if parent_words
        .iter()
        .any(|w| w == "address" || w == "addresses")
    {
        return Some("address");
    }
    None
}

/// The category a collection name suggests (`users`, `customers`): records about people.
pub fn classify_collection(name: &str) -> Option<&'static str> {
    let words = words(name);
    if words
        .iter()
        .any(|w| PEOPLE_COLLECTIONS.contains(&w.as_str()))
    {
        return Some("people");
    }
    classify_field(name)
}

/// Hints for a list of field paths, de-duplicated and in input order, at most `max`.
pub fn hints<'a>(paths: impl IntoIterator<Item = &'a str>, max: usize) -> Vec<PiiHint> {
    let mut out: Vec<PiiHint> = Vec::new();
    for path in paths {
        if out.len() >= max {
            break;
        }
        if let Some(category) = classify_field(path)
            && !out.iter().any(|h| h.field == path)
        {
            out.push(PiiHint {
                field: path.to_string(),
                category: category.to_string(),
            });
        }
    }
    out
}

/// Splits `contactEmail_2` into `["contact", "email", "2"]`.
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_personal_field_names() {
        for (field, category) in [
            ("email", "email"),
            ("customer.contactEmail", "email"),
            ("phone_number", "phone"),
            ("firstName", "name"),
            ("last_name", "name"),
            ("street_address", "address"),
            ("address.city", "address"),
            ("zip", "address"),
            ("geoip.location", "location"),
            ("lat", "location"),
            ("date_of_birth", "birth-date"),
            ("DOB", "birth-date"),
            ("password_hash", "credential"),
            ("client_ip", "ip"),
            ("source.ip", "ip"),
            ("ssn", "government-id"),
            ("passport_number", "government-id"),
            ("credit_card_number", "financial"),
            ("IBAN", "financial"),
        ] {
            assert_eq!(classify_field(field), Some(category), "{field}");
        }
    }

    #[test]
    fn ignores_ordinary_field_names() {
        for field in [
            "name",
            "title",
            "timestamp",
            "@timestamp",
            "message",
            "filename",
            "hostname",
            "emailed_at_count_x",
            "zipped",
            "description",
            "status",
            "tags",
            "ipsum",
            "shipping",
            "latency",
            "longtext",
        ] {
            assert_eq!(classify_field(field), None, "{field}");
        }
    }

    #[test]
    fn matches_people_collections() {
        assert_eq!(classify_collection("users"), Some("people"));
        assert_eq!(classify_collection("customer_profiles"), Some("people"));
        assert_eq!(classify_collection("system.views"), None);
        assert_eq!(classify_collection("logs"), None);
    }
}
