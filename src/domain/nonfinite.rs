//! Serde for `f64` values that may be NaN or infinite (Prometheus says NaN for 0/0 and +Inf for x/0).
//! JSON has no such numbers, and `serde_json` writes them as `null`, which then fails to read back as
//! an `f64`: here they are written as Prometheus spells them (`"NaN"`, `"+Inf"`, `"-Inf"`) and read
//! back exactly. Used with `#[serde(with = "…")]` on the domain's float fields.

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One float, finite or not.
#[derive(Debug, Clone, Copy, PartialEq)]
struct F(f64);

impl Serialize for F {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        if v.is_nan() {
            s.serialize_str("NaN")
        } else if v == f64::INFINITY {
            s.serialize_str("+Inf")
        } else if v == f64::NEG_INFINITY {
            s.serialize_str("-Inf")
        } else {
            s.serialize_f64(v)
        }
    }
}

struct FVisitor;

impl Visitor<'_> for FVisitor {
    type Value = F;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number, \"NaN\", \"+Inf\" or \"-Inf\"")
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<F, E> {
        Ok(F(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<F, E> {
        Ok(F(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<F, E> {
        Ok(F(v as f64))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<F, E> {
        match v {
            "NaN" => Ok(F(f64::NAN)),
            "+Inf" | "Inf" => Ok(F(f64::INFINITY)),
            "-Inf" => Ok(F(f64::NEG_INFINITY)),
            other => Err(E::invalid_value(de::Unexpected::Str(other), &self)),
        }
    }
}

impl<'de> Deserialize<'de> for F {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<F, D::Error> {
        d.deserialize_any(FVisitor)
    }
}

pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    F(*v).serialize(s)
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    F::deserialize(d).map(|F(v)| v)
}

/// `Option<f64>`: `null` is `None`, a NaN stays `Some(NaN)`.
pub mod option {
    use super::F;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        v.map(F).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Option::<F>::deserialize(d).map(|o| o.map(|F(v)| v))
    }
}

/// `Vec<f64>` (samples, windows).
pub mod vec {
    use super::F;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|&x| F(x)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Vec::<F>::deserialize(d).map(|v| v.into_iter().map(|F(x)| x).collect())
    }
}

#[cfg(test)]
mod tests {
    #[derive(Debug, serde::Serialize, serde::Deserialize)]
    struct T {
        #[serde(with = "super")]
        one: f64,
        #[serde(with = "super::option")]
        maybe: Option<f64>,
        #[serde(with = "super::option")]
        none: Option<f64>,
        #[serde(with = "super::vec")]
        many: Vec<f64>,
    }

    #[test]
    fn non_finite_values_survive_json() {
        let t = T {
            one: f64::INFINITY,
            maybe: Some(f64::NAN),
            none: None,
            many: vec![1.5, f64::NAN, f64::NEG_INFINITY, 0.0, 3.0],
        };
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(
            json,
            r#"{"one":"+Inf","maybe":"NaN","none":null,"many":[1.5,"NaN","-Inf",0.0,3.0]}"#
        );
        let back: T = serde_json::from_str(&json).unwrap();
        assert_eq!(back.one, f64::INFINITY);
        assert!(back.maybe.is_some_and(f64::is_nan));
        assert_eq!(back.none, None);
        assert_eq!(back.many[0], 1.5);
        assert!(back.many[1].is_nan());
        assert_eq!(back.many[2], f64::NEG_INFINITY);
        assert_eq!(&back.many[3..], &[0.0, 3.0]);
        let ints: T =
            serde_json::from_str(r#"{"one":2,"maybe":-1,"none":null,"many":[]}"#).unwrap();
        assert_eq!((ints.one, ints.maybe), (2.0, Some(-1.0)));
        assert!(
            serde_json::from_str::<T>(r#"{"one":"x","maybe":null,"none":null,"many":[]}"#).is_err()
        );
    }
}
