//! What the cockpit knows of each configured service to act on it: where it runs and how it is
//! rolled back. Built from the config at start (by the runtime), so `update` never reads config types.

use std::collections::BTreeMap;

/// A service that is rolled out.
#[derive(Debug, Clone, PartialEq)]
pub struct ServicePlan {
    pub name: String,
    pub repo: Option<String>,
    /// The GitHub environment whose deployments wait for approval.
    pub environment: String,
    pub production: bool,
    pub rollback: Option<RollbackVia>,
}

/// How a service is rolled back. Strings may hold `{service}`, `{environment}`, `{last_good_sha}`,
/// `{last_good_ref}` and `{current_sha}`, filled when the revisions are known.
#[derive(Debug, Clone, PartialEq)]
pub enum RollbackVia {
    /// A `workflow_dispatch` of a workflow in the service's repo.
    Workflow {
        workflow: String,
        git_ref: String,
        inputs: BTreeMap<String, String>,
    },
    /// A local command, run without a shell.
    Command { argv: Vec<String> },
}
