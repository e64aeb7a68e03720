"""The AWS deployment as CDK for Terraform (Python): ECS on EC2 behind an Application Load Balancer.

``python -m cdktf_app`` (``make synth``, ``cdktf synth``) writes plain Terraform JSON to ``cdktf.out/``.
"""
