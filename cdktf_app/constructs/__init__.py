"""One construct per logical unit of the deployment; ``cdktf_app.stack`` composes them."""
