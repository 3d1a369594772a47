"""resource directory: the Open Referral HSDS 3.0 tables (hsds_*) and the log of directory imports

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 20:31:19.629833

The lead re-chains this revision onto the merged head; it depends only on 0002's base tables (none).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table("hsds_accessibility",
    sa.Column("id", sa.String(length=36), nullable=False),
    sa.Column("location_id", sa.String(length=36), nullable=True),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("details", sa.Text(), nullable=True),
    sa.Column("url", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_hsds_accessibility"))
    )
    with op.batch_alter_table("hsds_accessibility", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hsds_accessibility_location_id"), ["location_id"], unique=False)

    op.create_table("hsds_addresses",
    sa.Column("id", sa.String(length=36), nullable=False),
    sa.Column("location_id", sa.String(length=36), nullable=True),
    sa.Column("attention", sa.Text(), nullable=True),
    sa.Column("address_1", sa.Text(), nullable=False),
    sa.Column("address_2", sa.Text(), nullable=True),
    sa.Column("city", sa.Text(), nullable=False),
    sa.Column("region", sa.Text(), nullable=True),
    sa.Column("state_province", sa.Text(), nullable=False),
    sa.Column("postal_code", sa.Text(), nullable=False),
    sa.Column("country", sa.Text(), nullable=False),
    sa.Column("address_type", sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_hsds_addresses"))
    )
    with op.batch_alter_table("hsds_addresses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hsds_addresses_location_id"), ["location_id"], unique=False)

    op.create_table("hsds_attributes",
    sa.Column("id", sa.String(length=36), nullable=False),
    sa.Column("link_id", sa.String(length=36), nullable=False),
    sa.Column("taxonomy_term_id", sa.String(length=36), nullable=False),
    sa.Column("link_type", sa.Text(), nullable=True),
    sa.Column("link_entity", sa.Text(), nullable=False),
    sa.Column("value", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_hsds_attributes"))
    )
    with op.batch_alter_table("hsds_attributes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hsds_attributes_link_id"), ["link_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hsds_attributes_taxonomy_term_id"), ["taxonomy_term_id"], unique=False)

    op.create_table("hsds_contacts",
    sa.Column("id", sa.String(length=36), nullable=False),
    sa.Column("organization_id", sa.String(length=36), nullable=True),
    sa.Column("service_id", sa.String(length=36), nullable=True),
    sa.Column("service_at_location_id", sa.String(length=36), nullable=True),
    sa.Column("location_id", sa.String(length=36), nullable=True),
    sa.Column("name", sa.Text(), nullable=True),
    sa.Column("title", sa.Text(), nullable=True),
    sa.Column("department", sa.Text(), nullable=True),
    sa.Column("email", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_hsds_contacts"))
    )
    with op.batch_alter_table("hsds_contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hsds_contacts_location_id"), ["location_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hsds_contacts_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hsds_contacts_service_at_location_id"),
                              ["service_at_location_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hsds_contacts_service_id"), ["service_id"], unique=False)

    op.create_table("hsds_cost_options",
    sa.Column("id", sa.String(length=36), nullable=False),
    sa.Column("service_id", sa.String(length=36), nullable=False),
    sa.Column("valid_from", sa.Date(), nullable=True),
    sa.Column("valid_to", sa.Date(), nullable=True),
    sa.Column("option", sa.Text(), nullable=True),
    sa.Column("currency", sa.Text(), nullable=True),
    sa.Column("amount", sa.Float(), nullable=True),
    sa.Column("amount_description", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_hsds_cost_options"))
    )
    with op.batch_alter_table("hsds_cost_options", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hsds_cost_options_service_id"), ["service_id"], unique=False)

    op.create_table("hsds_funding",
    sa.Column("id", sa.String(length=36), nullable=False),
    sa.Column("organization_id", sa.String(length=36), nullable=True),
    sa.Column("service_id", sa.String(length=36), nullable=True),
    sa.Column("source", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_hsds_funding"))
    )
    with op.batch_alter_table("hsds_funding", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hsds_funding_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hsds_funding_service_id"), ["service_id"], unique=False)

    op.create_table("hsds_languages",
    sa.Column("id", sa.String(length=36), nullable=False),
    sa.Column("service_id", sa.String(length=36), nullable=True),
    sa.Column("location_id", sa.String(length=36), nullable=True),
    sa.Column("phone_id", sa.String(length=36), nullable=True),
    sa.Column("name", sa.Text(), nullable=True),
    sa.Column("code", sa.Text(), nullable=True),
    sa.Column("note", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_hsds_languages"))
    )
    with op.batch_alter_table("hsds_languages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hsds_languages_location_id"), ["location_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hsds_languages_phone_id"), ["phone_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hsds_languages_service_id"), ["service_id"], unique=False)

    op.create_table("hsds_locations",
    sa.Column("id", sa.String(length=36), nullable=False),
    sa.Column("location_type", sa.String(length=32), nullable=False),
    sa.Column("url", sa.Text(), nullable=True),
    sa.Column("organization_id", sa.String(length=36), nullable=True),
    sa.Column("name", sa.Text(), nullable=True),
    sa.Column("alternate_name", sa.Text(), nullable=True),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("transportation", sa.Text(), nullable=True),
    sa.Column("latitude", sa.Float(), nullable=True),
    sa.Column("longitude", sa.Float(), nullable=True),
    sa.Column("external_identifier", sa.Text(), nullable=True),
    sa.Column("external_identifier_type", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_hsds_locations"))
    )
    with op.batch_alter_table("hsds_locations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hsds_locations_organization_id"), ["organization_id"], unique=False)

    op.create_table("hsds_meta_table_descriptions",
    sa.Column("id", sa.String(length=36), nullable=False),
    sa.Column("name", sa.Text(), nullable=True),
    sa.Column("language", sa.Text(), nullable=True),
    sa.Column("character_set", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_hsds_meta_table_descriptions"))
    )
    op.create_table("hsds_metadata",
    sa.Column("id", sa.String(length=36), nullable=False),
    sa.Column("resource_id", sa.String(length=36), nullable=False),
    sa.Column("resource_type", sa.Text(), nullable=False),
    sa.Column("last_action_date", sa.Date(), nullable=False),
    sa.Column("last_action_type", sa.Text(), nullable=False),
    sa.Column("field_name", sa.Text(), nullable=False),
    sa.Column("previous_value", sa.Text(), nullable=False),
    sa.Column("replacement_value", sa.Text(), nullable=False),
    sa.Column("updated_by", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_hsds_metadata"))
    )
    with op.batch_alter_table("hsds_metadata", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hsds_metadata_resource_id"), ["resource_id"], unique=False)

    op.create_table("hsds_organization_identifiers",
    sa.Column("id", sa.String(length=36), nullable=False),
    sa.Column("organization_id", sa.String(length=36), nullable=False),
    sa.Column("identifier_scheme", sa.Text(), nullable=True),
    sa.Column("identifier_type", sa.Text(), nullable=False),
    sa.Column("identifier", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_hsds_organization_identifiers"))
    )
    with op.batch_alter_table("hsds_organization_identifiers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hsds_organization_identifiers_organization_id"),
                              ["organization_id"], unique=False)

    op.create_table("hsds_organizations",
    sa.Column("id", sa.String(length=36), nullable=False),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("alternate_name", sa.Text(), nullable=True),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("email", sa.Text(), nullable=True),
    sa.Column("website", sa.Text(), nullable=True),
    sa.Column("tax_status", sa.Text(), nullable=True),
    sa.Column("tax_id", sa.Text(), nullable=True),
    sa.Column("year_incorporated", sa.Float(), nullable=True),
    sa.Column("legal_status", sa.Text(), nullable=True),
    sa.Column("logo", sa.Text(), nullable=True),
    sa.Column("uri", sa.Text(), nullable=True),
    sa.Column("parent_organization_id", sa.String(length=36), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_hsds_organizations"))
    )
    with op.batch_alter_table("hsds_organizations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hsds_organizations_parent_organization_id"),
                              ["parent_organization_id"], unique=False)

    op.create_table("hsds_phones",
    sa.Column("id", sa.String(length=36), nullable=False),
    sa.Column("location_id", sa.String(length=36), nullable=True),
    sa.Column("service_id", sa.String(length=36), nullable=True),
    sa.Column("organization_id", sa.String(length=36), nullable=True),
    sa.Column("contact_id", sa.String(length=36), nullable=True),
    sa.Column("service_at_location_id", sa.String(length=36), nullable=True),
    sa.Column("number", sa.Text(), nullable=False),
    sa.Column("extension", sa.Float(), nullable=True),
    sa.Column("type", sa.Text(), nullable=True),
    sa.Column("description", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_hsds_phones"))
    )
    with op.batch_alter_table("hsds_phones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hsds_phones_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hsds_phones_location_id"), ["location_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hsds_phones_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hsds_phones_service_at_location_id"),
                              ["service_at_location_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hsds_phones_service_id"), ["service_id"], unique=False)

    op.create_table("hsds_programs",
    sa.Column("id", sa.String(length=36), nullable=False),
    sa.Column("organization_id", sa.String(length=36), nullable=False),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("alternate_name", sa.Text(), nullable=True),
    sa.Column("description", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_hsds_programs"))
    )
    with op.batch_alter_table("hsds_programs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hsds_programs_organization_id"), ["organization_id"], unique=False)

    op.create_table("hsds_required_documents",
    sa.Column("id", sa.String(length=36), nullable=False),
    sa.Column("service_id", sa.String(length=36), nullable=True),
    sa.Column("document", sa.Text(), nullable=True),
    sa.Column("uri", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_hsds_required_documents"))
    )
    with op.batch_alter_table("hsds_required_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hsds_required_documents_service_id"), ["service_id"], unique=False)

    op.create_table("hsds_schedules",
    sa.Column("id", sa.String(length=36), nullable=False),
    sa.Column("service_id", sa.String(length=36), nullable=True),
    sa.Column("location_id", sa.String(length=36), nullable=True),
    sa.Column("service_at_location_id", sa.String(length=36), nullable=True),
    sa.Column("valid_from", sa.Date(), nullable=True),
    sa.Column("valid_to", sa.Date(), nullable=True),
    sa.Column("dtstart", sa.Date(), nullable=True),
    sa.Column("timezone", sa.Float(), nullable=True),
    sa.Column("until", sa.Date(), nullable=True),
    sa.Column("count", sa.Float(), nullable=True),
    sa.Column("wkst", sa.String(length=32), nullable=True),
    sa.Column("freq", sa.String(length=32), nullable=True),
    sa.Column("interval", sa.Float(), nullable=True),
    sa.Column("byday", sa.Text(), nullable=True),
    sa.Column("byweekno", sa.Text(), nullable=True),
    sa.Column("bymonthday", sa.Text(), nullable=True),
    sa.Column("byyearday", sa.Text(), nullable=True),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("opens_at", sa.String(length=32), nullable=True),
    sa.Column("closes_at", sa.String(length=32), nullable=True),
    sa.Column("schedule_link", sa.Text(), nullable=True),
    sa.Column("attending_type", sa.Text(), nullable=True),
    sa.Column("notes", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_hsds_schedules"))
    )
    with op.batch_alter_table("hsds_schedules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hsds_schedules_location_id"), ["location_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hsds_schedules_service_at_location_id"),
                              ["service_at_location_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hsds_schedules_service_id"), ["service_id"], unique=False)

    op.create_table("hsds_service_areas",
    sa.Column("id", sa.String(length=36), nullable=False),
    sa.Column("service_id", sa.String(length=36), nullable=True),
    sa.Column("name", sa.Text(), nullable=True),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("extent", sa.Text(), nullable=True),
    sa.Column("extent_type", sa.Text(), nullable=True),
    sa.Column("uri", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_hsds_service_areas"))
    )
    with op.batch_alter_table("hsds_service_areas", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hsds_service_areas_service_id"), ["service_id"], unique=False)

    op.create_table("hsds_service_at_location",
    sa.Column("id", sa.String(length=36), nullable=False),
    sa.Column("service_id", sa.String(length=36), nullable=False),
    sa.Column("location_id", sa.String(length=36), nullable=False),
    sa.Column("description", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_hsds_service_at_location"))
    )
    with op.batch_alter_table("hsds_service_at_location", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hsds_service_at_location_location_id"), ["location_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hsds_service_at_location_service_id"), ["service_id"], unique=False)

    op.create_table("hsds_services",
    sa.Column("id", sa.String(length=36), nullable=False),
    sa.Column("organization_id", sa.String(length=36), nullable=False),
    sa.Column("program_id", sa.String(length=36), nullable=True),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("alternate_name", sa.Text(), nullable=True),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("url", sa.Text(), nullable=True),
    sa.Column("email", sa.Text(), nullable=True),
    sa.Column("status", sa.String(length=32), nullable=False),
    sa.Column("interpretation_services", sa.Text(), nullable=True),
    sa.Column("application_process", sa.Text(), nullable=True),
    sa.Column("fees_description", sa.Text(), nullable=True),
    sa.Column("wait_time", sa.Text(), nullable=True),
    sa.Column("fees", sa.Text(), nullable=True),
    sa.Column("accreditations", sa.Text(), nullable=True),
    sa.Column("eligibility_description", sa.Text(), nullable=True),
    sa.Column("minimum_age", sa.Float(), nullable=True),
    sa.Column("maximum_age", sa.Float(), nullable=True),
    sa.Column("assured_date", sa.Date(), nullable=True),
    sa.Column("assurer_email", sa.Text(), nullable=True),
    sa.Column("licenses", sa.Text(), nullable=True),
    sa.Column("alert", sa.Text(), nullable=True),
    sa.Column("last_modified", sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_hsds_services"))
    )
    with op.batch_alter_table("hsds_services", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hsds_services_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hsds_services_program_id"), ["program_id"], unique=False)

    op.create_table("hsds_taxonomies",
    sa.Column("id", sa.String(length=36), nullable=False),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("uri", sa.Text(), nullable=True),
    sa.Column("version", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_hsds_taxonomies"))
    )
    op.create_table("hsds_taxonomy_terms",
    sa.Column("id", sa.String(length=36), nullable=False),
    sa.Column("code", sa.Text(), nullable=True),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("parent_id", sa.String(length=36), nullable=True),
    sa.Column("taxonomy", sa.Text(), nullable=True),
    sa.Column("language", sa.Text(), nullable=True),
    sa.Column("taxonomy_id", sa.String(length=36), nullable=True),
    sa.Column("term_uri", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_hsds_taxonomy_terms"))
    )
    with op.batch_alter_table("hsds_taxonomy_terms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hsds_taxonomy_terms_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hsds_taxonomy_terms_taxonomy_id"), ["taxonomy_id"], unique=False)

    op.create_table("resource_imports",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("source", sa.Text(), nullable=False),
    sa.Column("summary", JSON, nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_resource_imports"))
    )
    with op.batch_alter_table("resource_imports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resource_imports_at"), ["at"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("resource_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resource_imports_at"))

    op.drop_table("resource_imports")
    with op.batch_alter_table("hsds_taxonomy_terms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hsds_taxonomy_terms_taxonomy_id"))
        batch_op.drop_index(batch_op.f("ix_hsds_taxonomy_terms_parent_id"))

    op.drop_table("hsds_taxonomy_terms")
    op.drop_table("hsds_taxonomies")
    with op.batch_alter_table("hsds_services", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hsds_services_program_id"))
        batch_op.drop_index(batch_op.f("ix_hsds_services_organization_id"))

    op.drop_table("hsds_services")
    with op.batch_alter_table("hsds_service_at_location", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hsds_service_at_location_service_id"))
        batch_op.drop_index(batch_op.f("ix_hsds_service_at_location_location_id"))

    op.drop_table("hsds_service_at_location")
    with op.batch_alter_table("hsds_service_areas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hsds_service_areas_service_id"))

    op.drop_table("hsds_service_areas")
    with op.batch_alter_table("hsds_schedules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hsds_schedules_service_id"))
        batch_op.drop_index(batch_op.f("ix_hsds_schedules_service_at_location_id"))
        batch_op.drop_index(batch_op.f("ix_hsds_schedules_location_id"))

    op.drop_table("hsds_schedules")
    with op.batch_alter_table("hsds_required_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hsds_required_documents_service_id"))

    op.drop_table("hsds_required_documents")
    with op.batch_alter_table("hsds_programs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hsds_programs_organization_id"))

    op.drop_table("hsds_programs")
    with op.batch_alter_table("hsds_phones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hsds_phones_service_id"))
        batch_op.drop_index(batch_op.f("ix_hsds_phones_service_at_location_id"))
        batch_op.drop_index(batch_op.f("ix_hsds_phones_organization_id"))
        batch_op.drop_index(batch_op.f("ix_hsds_phones_location_id"))
        batch_op.drop_index(batch_op.f("ix_hsds_phones_contact_id"))

    op.drop_table("hsds_phones")
    with op.batch_alter_table("hsds_organizations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hsds_organizations_parent_organization_id"))

    op.drop_table("hsds_organizations")
    with op.batch_alter_table("hsds_organization_identifiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hsds_organization_identifiers_organization_id"))

    op.drop_table("hsds_organization_identifiers")
    with op.batch_alter_table("hsds_metadata", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hsds_metadata_resource_id"))

    op.drop_table("hsds_metadata")
    op.drop_table("hsds_meta_table_descriptions")
    with op.batch_alter_table("hsds_locations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hsds_locations_organization_id"))

    op.drop_table("hsds_locations")
    with op.batch_alter_table("hsds_languages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hsds_languages_service_id"))
        batch_op.drop_index(batch_op.f("ix_hsds_languages_phone_id"))
        batch_op.drop_index(batch_op.f("ix_hsds_languages_location_id"))

    op.drop_table("hsds_languages")
    with op.batch_alter_table("hsds_funding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hsds_funding_service_id"))
        batch_op.drop_index(batch_op.f("ix_hsds_funding_organization_id"))

    op.drop_table("hsds_funding")
    with op.batch_alter_table("hsds_cost_options", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hsds_cost_options_service_id"))

    op.drop_table("hsds_cost_options")
    with op.batch_alter_table("hsds_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hsds_contacts_service_id"))
        batch_op.drop_index(batch_op.f("ix_hsds_contacts_service_at_location_id"))
        batch_op.drop_index(batch_op.f("ix_hsds_contacts_organization_id"))
        batch_op.drop_index(batch_op.f("ix_hsds_contacts_location_id"))

    op.drop_table("hsds_contacts")
    with op.batch_alter_table("hsds_attributes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hsds_attributes_taxonomy_term_id"))
        batch_op.drop_index(batch_op.f("ix_hsds_attributes_link_id"))

    op.drop_table("hsds_attributes")
    with op.batch_alter_table("hsds_addresses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hsds_addresses_location_id"))

    op.drop_table("hsds_addresses")
    with op.batch_alter_table("hsds_accessibility", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hsds_accessibility_location_id"))

    op.drop_table("hsds_accessibility")
