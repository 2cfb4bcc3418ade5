//! Every GraphQL query the GitHub client sends is valid against GitHub's published schema
//! (`../shared/fixtures/github/graphql/schema.graphql`, from `@octokit/graphql-schema`).

use apollo_compiler::{ExecutableDocument, Schema};

fn schema() -> Option<apollo_compiler::validation::Valid<Schema>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/github/graphql/schema.graphql"
    );
    let Ok(text) = std::fs::read_to_string(path) else {
        eprintln!("../shared/fixtures is absent: the GraphQL schema checks are skipped");
        return None;
    };
    // GitHub's published schema defines one field twice (`EnterpriseOwnerInfo.
    // repositoryDeployKeySetting`), which a strict schema validation refuses; the schema as parsed
    // (the second definition ignored) is what queries are checked against.
    let schema = match Schema::parse(text, "schema.graphql") {
        Ok(s) => s,
        Err(e) => {
            let all_duplicates = e
                .errors
                .iter()
                .all(|d| d.to_string().contains("duplicate definitions"));
            assert!(
                all_duplicates,
                "GitHub's schema does not load: {}",
                e.errors
            );
            e.partial
        }
    };
    Some(apollo_compiler::validation::Valid::assume_valid(schema))
}

#[test]
fn every_query_is_valid_against_githubs_schema() {
    let Some(schema) = schema() else { return };
    for (name, query) in [
        ("pulls.graphql", flightdeck::sources::github::PULLS_QUERY),
        (
            "pulls_by_id.graphql",
            flightdeck::sources::github::PULLS_BY_ID_QUERY,
        ),
    ] {
        if let Err(e) = ExecutableDocument::parse_and_validate(&schema, query, name) {
            panic!("{name} is not valid:\n{}", e.errors);
        }
    }
}

#[test]
fn the_check_catches_a_field_github_does_not_have() {
    let Some(schema) = schema() else { return };
    let broken =
        flightdeck::sources::github::PULLS_QUERY.replace("mergeStateStatus", "mergeStatus");
    let err = ExecutableDocument::parse_and_validate(&schema, broken, "broken.graphql")
        .expect_err("an unknown field is refused");
    assert!(
        err.errors.to_string().contains("mergeStatus"),
        "{}",
        err.errors
    );
}
