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
    use flightdeck::sources::github::{PULLS_BY_ID_QUERY, Selection, pulls_query};
    let mut queries = vec![
        (
            "pulls_by_id.graphql".to_string(),
            PULLS_BY_ID_QUERY.to_string(),
        ),
        // The single-repository form the demo world's tests send.
        (
            "pulls.graphql".to_string(),
            include_str!("../src/sources/github/pulls.graphql").to_string()
                + "\n"
                + flightdeck::sources::github::PULL_REQUEST_FIELDS,
        ),
    ];
    // The batched list queries, as sent for one to many repositories.
    for n in [1, 2, 5, 12] {
        for sel in [Selection::Full, Selection::Stamp] {
            queries.push((format!("pulls_query({n}, {sel:?})"), pulls_query(n, sel)));
        }
    }
    for (name, query) in queries {
        if let Err(e) = ExecutableDocument::parse_and_validate(&schema, &query, &name) {
            panic!("{name} is not valid:\n{}", e.errors);
        }
    }
}

#[test]
fn the_check_catches_a_field_github_does_not_have() {
    let Some(schema) = schema() else { return };
    let broken =
        flightdeck::sources::github::pulls_query(2, flightdeck::sources::github::Selection::Full)
            .replace("mergeStateStatus", "mergeStatus");
    let err = ExecutableDocument::parse_and_validate(&schema, broken, "broken.graphql")
        .expect_err("an unknown field is refused");
    assert!(
        err.errors.to_string().contains("mergeStatus"),
        "{}",
        err.errors
    );
}
