"""TLS certificates from ACM (R6.7, R9.5), DNS-validated in the environment's own zone.

Two certificates for the same names: one in the primary region for the load
balancer, one in us-east-1 for CloudFront. Each names every host explicitly
(no wildcard, so a leaked key cannot serve an unknown host), renews itself while
its validation CNAMEs stay in the zone, and is replaced before it is destroyed.

Only what serves TLS waits for validation: the `*_certificate_arn` attributes
come from `aws_acm_certificate_validation`, so a listener or distribution that
uses them waits, and nothing else does (the earlier attempt blocked its whole
apply on one DNS problem). The validation CNAMEs of the two certificates are
the same records (ACM derives them from account and name); both are written,
with overwrite allowed, so that neither certificate depends on the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import TerraformIterator, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate, AcmCertificateOptions
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.route53_record import Route53Record
from constructs import Construct

from modules.context import StackContext

VALIDATION_RECORD_TTL = 300


@dataclass(frozen=True)
class CertificatesConfig:
    domain: str
    alternative_names: Sequence[str]  # full names, e.g. www.directfanz.io
    zone_id: str


class Certificates(Construct):
    """Exposes `load_balancer_certificate_arn` (primary region) and `cloudfront_certificate_arn` (us-east-1)."""

    def __init__(self, scope: Construct, id: str, config: CertificatesConfig) -> None:
        super().__init__(scope, id)
        self._config = config
        self.load_balancer_certificate_arn = self._certificate("load_balancer", None)
        # CloudFront takes certificates from us-east-1 only.
        self.cloudfront_certificate_arn = self._certificate("cloudfront", StackContext.of(self).providers.us_east_1)

    def _certificate(self, id: str, provider: AwsProvider | None) -> str:
        config = self._config
        certificate = AcmCertificate(
            self,
            id,
            domain_name=config.domain,
            subject_alternative_names=sorted(config.alternative_names),
            validation_method="DNS",
            options=AcmCertificateOptions(certificate_transparency_logging_preference="ENABLED"),
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            provider=provider,
        )
        options = TerraformIterator.from_complex_list(certificate.domain_validation_options, "domain_name")
        records = Route53Record(
            self,
            f"{id}_validation",
            for_each=options,
            zone_id=config.zone_id,
            name=options.get_string("resource_record_name"),
            type=options.get_string("resource_record_type"),
            records=[options.get_string("resource_record_value")],
            ttl=VALIDATION_RECORD_TTL,
            allow_overwrite=True,
        )
        # cdktf's iterator wraps the set in tolist(), which makes the whole collection unknown until
        # apply and so fails `terraform plan` on a new environment. Iterating the set directly keeps
        # the keys (domain names, known at plan time) known: HashiCorp's documented pattern.
        records.add_override(
            "for_each",
            f"${{{{ for option in {certificate.fqn}.domain_validation_options : option.domain_name => option }}}}",
        )
        validation = AcmCertificateValidation(
            self,
            f"{id}_issued",
            certificate_arn=certificate.arn,
            depends_on=[records],
            provider=provider,
        )
        return validation.certificate_arn
