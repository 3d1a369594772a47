"""The resource directory's tables, one per Open Referral HSDS 3.0 table, with HSDS's field names.

Ids are the HSDS ids (uuids) as the source gave them, so a re-import updates a record instead of doubling it and
an export hands the same ids back. References between HSDS records (``service.organization_id``) are indexed
columns, not database foreign keys: HSDS packages may name records they do not carry (the official example
does), and the importer reports such references instead of refusing them. Numbers are HSDS "number" fields
(floats); dates are dates; opening times stay the text HSDS gives (``09:00``, ``09:00-05:00``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from heart.db import Base, JSONType, UTCDateTime


class Organization(Base):
    """HSDS organization (organizations.csv)."""

    __tablename__ = "hsds_organizations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(Text())
    alternate_name: Mapped[str | None] = mapped_column(Text())
    description: Mapped[str] = mapped_column(Text())
    email: Mapped[str | None] = mapped_column(Text())
    website: Mapped[str | None] = mapped_column(Text())
    tax_status: Mapped[str | None] = mapped_column(Text())
    tax_id: Mapped[str | None] = mapped_column(Text())
    year_incorporated: Mapped[float | None] = mapped_column(Float())
    legal_status: Mapped[str | None] = mapped_column(Text())
    logo: Mapped[str | None] = mapped_column(Text())
    uri: Mapped[str | None] = mapped_column(Text())
    parent_organization_id: Mapped[str | None] = mapped_column(String(36), index=True)


class Program(Base):
    """HSDS program (programs.csv)."""

    __tablename__ = "hsds_programs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organization_id: Mapped[str] = mapped_column(String(36), index=True)
    name: Mapped[str] = mapped_column(Text())
    alternate_name: Mapped[str | None] = mapped_column(Text())
    description: Mapped[str] = mapped_column(Text())


class Service(Base):
    """HSDS service (services.csv)."""

    __tablename__ = "hsds_services"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organization_id: Mapped[str] = mapped_column(String(36), index=True)
    program_id: Mapped[str | None] = mapped_column(String(36), index=True)
    name: Mapped[str] = mapped_column(Text())
    alternate_name: Mapped[str | None] = mapped_column(Text())
    description: Mapped[str | None] = mapped_column(Text())
    url: Mapped[str | None] = mapped_column(Text())
    email: Mapped[str | None] = mapped_column(Text())
    status: Mapped[str] = mapped_column(String(32))
    interpretation_services: Mapped[str | None] = mapped_column(Text())
    application_process: Mapped[str | None] = mapped_column(Text())
    fees_description: Mapped[str | None] = mapped_column(Text())
    wait_time: Mapped[str | None] = mapped_column(Text())
    fees: Mapped[str | None] = mapped_column(Text())
    accreditations: Mapped[str | None] = mapped_column(Text())
    eligibility_description: Mapped[str | None] = mapped_column(Text())
    minimum_age: Mapped[float | None] = mapped_column(Float())
    maximum_age: Mapped[float | None] = mapped_column(Float())
    assured_date: Mapped[date | None] = mapped_column(Date())
    assurer_email: Mapped[str | None] = mapped_column(Text())
    licenses: Mapped[str | None] = mapped_column(Text())
    alert: Mapped[str | None] = mapped_column(Text())
    last_modified: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Attribute(Base):
    """HSDS attribute (attributes.csv)."""

    __tablename__ = "hsds_attributes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    link_id: Mapped[str] = mapped_column(String(36), index=True)
    taxonomy_term_id: Mapped[str] = mapped_column(String(36), index=True)
    link_type: Mapped[str | None] = mapped_column(Text())
    link_entity: Mapped[str] = mapped_column(Text())
    value: Mapped[str | None] = mapped_column(Text())


class ServiceAtLocation(Base):
    """HSDS service_at_location (service_at_location.csv)."""

    __tablename__ = "hsds_service_at_location"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str] = mapped_column(String(36), index=True)
    location_id: Mapped[str] = mapped_column(String(36), index=True)
    description: Mapped[str | None] = mapped_column(Text())


class Location(Base):
    """HSDS location (locations.csv)."""

    __tablename__ = "hsds_locations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    location_type: Mapped[str] = mapped_column(String(32))
    url: Mapped[str | None] = mapped_column(Text())
    organization_id: Mapped[str | None] = mapped_column(String(36), index=True)
    name: Mapped[str | None] = mapped_column(Text())
    alternate_name: Mapped[str | None] = mapped_column(Text())
    description: Mapped[str | None] = mapped_column(Text())
    transportation: Mapped[str | None] = mapped_column(Text())
    latitude: Mapped[float | None] = mapped_column(Float())
    longitude: Mapped[float | None] = mapped_column(Float())
    external_identifier: Mapped[str | None] = mapped_column(Text())
    external_identifier_type: Mapped[str | None] = mapped_column(Text())


class Phone(Base):
    """HSDS phone (phones.csv)."""

    __tablename__ = "hsds_phones"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    location_id: Mapped[str | None] = mapped_column(String(36), index=True)
    service_id: Mapped[str | None] = mapped_column(String(36), index=True)
    organization_id: Mapped[str | None] = mapped_column(String(36), index=True)
    contact_id: Mapped[str | None] = mapped_column(String(36), index=True)
    service_at_location_id: Mapped[str | None] = mapped_column(String(36), index=True)
    number: Mapped[str] = mapped_column(Text())
    extension: Mapped[float | None] = mapped_column(Float())
    type: Mapped[str | None] = mapped_column(Text())
    description: Mapped[str | None] = mapped_column(Text())


class Contact(Base):
    """HSDS contact (contacts.csv)."""

    __tablename__ = "hsds_contacts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organization_id: Mapped[str | None] = mapped_column(String(36), index=True)
    service_id: Mapped[str | None] = mapped_column(String(36), index=True)
    service_at_location_id: Mapped[str | None] = mapped_column(String(36), index=True)
    location_id: Mapped[str | None] = mapped_column(String(36), index=True)
    name: Mapped[str | None] = mapped_column(Text())
    title: Mapped[str | None] = mapped_column(Text())
    department: Mapped[str | None] = mapped_column(Text())
    email: Mapped[str | None] = mapped_column(Text())


class Address(Base):
    """HSDS address (addresses.csv)."""

    __tablename__ = "hsds_addresses"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    location_id: Mapped[str | None] = mapped_column(String(36), index=True)
    attention: Mapped[str | None] = mapped_column(Text())
    address_1: Mapped[str] = mapped_column(Text())
    address_2: Mapped[str | None] = mapped_column(Text())
    city: Mapped[str] = mapped_column(Text())
    region: Mapped[str | None] = mapped_column(Text())
    state_province: Mapped[str] = mapped_column(Text())
    postal_code: Mapped[str] = mapped_column(Text())
    country: Mapped[str] = mapped_column(Text())
    address_type: Mapped[str] = mapped_column(String(32))


class Schedule(Base):
    """HSDS schedule (schedules.csv)."""

    __tablename__ = "hsds_schedules"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str | None] = mapped_column(String(36), index=True)
    location_id: Mapped[str | None] = mapped_column(String(36), index=True)
    service_at_location_id: Mapped[str | None] = mapped_column(String(36), index=True)
    valid_from: Mapped[date | None] = mapped_column(Date())
    valid_to: Mapped[date | None] = mapped_column(Date())
    dtstart: Mapped[date | None] = mapped_column(Date())
    timezone: Mapped[float | None] = mapped_column(Float())
    until: Mapped[date | None] = mapped_column(Date())
    count: Mapped[float | None] = mapped_column(Float())
    wkst: Mapped[str | None] = mapped_column(String(32))
    freq: Mapped[str | None] = mapped_column(String(32))
    interval: Mapped[float | None] = mapped_column(Float())
    byday: Mapped[str | None] = mapped_column(Text())
    byweekno: Mapped[str | None] = mapped_column(Text())
    bymonthday: Mapped[str | None] = mapped_column(Text())
    byyearday: Mapped[str | None] = mapped_column(Text())
    description: Mapped[str | None] = mapped_column(Text())
    opens_at: Mapped[str | None] = mapped_column(String(32))
    closes_at: Mapped[str | None] = mapped_column(String(32))
    schedule_link: Mapped[str | None] = mapped_column(Text())
    attending_type: Mapped[str | None] = mapped_column(Text())
    notes: Mapped[str | None] = mapped_column(Text())


class Funding(Base):
    """HSDS funding (funding.csv)."""

    __tablename__ = "hsds_funding"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organization_id: Mapped[str | None] = mapped_column(String(36), index=True)
    service_id: Mapped[str | None] = mapped_column(String(36), index=True)
    source: Mapped[str | None] = mapped_column(Text())


class ServiceArea(Base):
    """HSDS service_area (service_areas.csv)."""

    __tablename__ = "hsds_service_areas"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str | None] = mapped_column(String(36), index=True)
    name: Mapped[str | None] = mapped_column(Text())
    description: Mapped[str | None] = mapped_column(Text())
    extent: Mapped[str | None] = mapped_column(Text())
    extent_type: Mapped[str | None] = mapped_column(Text())
    uri: Mapped[str | None] = mapped_column(Text())


class RequiredDocument(Base):
    """HSDS required_document (required_documents.csv)."""

    __tablename__ = "hsds_required_documents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str | None] = mapped_column(String(36), index=True)
    document: Mapped[str | None] = mapped_column(Text())
    uri: Mapped[str | None] = mapped_column(Text())


class Language(Base):
    """HSDS language (languages.csv)."""

    __tablename__ = "hsds_languages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str | None] = mapped_column(String(36), index=True)
    location_id: Mapped[str | None] = mapped_column(String(36), index=True)
    phone_id: Mapped[str | None] = mapped_column(String(36), index=True)
    name: Mapped[str | None] = mapped_column(Text())
    code: Mapped[str | None] = mapped_column(Text())
    note: Mapped[str | None] = mapped_column(Text())


class Accessibility(Base):
    """HSDS accessibility (accessibility.csv)."""

    __tablename__ = "hsds_accessibility"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    location_id: Mapped[str | None] = mapped_column(String(36), index=True)
    description: Mapped[str | None] = mapped_column(Text())
    details: Mapped[str | None] = mapped_column(Text())
    url: Mapped[str | None] = mapped_column(Text())


class TaxonomyTerm(Base):
    """HSDS taxonomy_term (taxonomy_terms.csv)."""

    __tablename__ = "hsds_taxonomy_terms"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str | None] = mapped_column(Text())
    name: Mapped[str] = mapped_column(Text())
    description: Mapped[str] = mapped_column(Text())
    parent_id: Mapped[str | None] = mapped_column(String(36), index=True)
    taxonomy: Mapped[str | None] = mapped_column(Text())
    language: Mapped[str | None] = mapped_column(Text())
    taxonomy_id: Mapped[str | None] = mapped_column(String(36), index=True)
    term_uri: Mapped[str | None] = mapped_column(Text())


class MetadataEntry(Base):
    """HSDS metadata (metadata.csv)."""

    __tablename__ = "hsds_metadata"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    resource_id: Mapped[str] = mapped_column(String(36), index=True)
    resource_type: Mapped[str] = mapped_column(Text())
    last_action_date: Mapped[date] = mapped_column(Date())
    last_action_type: Mapped[str] = mapped_column(Text())
    field_name: Mapped[str] = mapped_column(Text())
    previous_value: Mapped[str] = mapped_column(Text())
    replacement_value: Mapped[str] = mapped_column(Text())
    updated_by: Mapped[str] = mapped_column(Text())


class MetaTableDescription(Base):
    """HSDS meta_table_description (meta_table_descriptions.csv)."""

    __tablename__ = "hsds_meta_table_descriptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str | None] = mapped_column(Text())
    language: Mapped[str | None] = mapped_column(Text())
    character_set: Mapped[str | None] = mapped_column(Text())


class CostOption(Base):
    """HSDS cost_option (cost_options.csv)."""

    __tablename__ = "hsds_cost_options"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str] = mapped_column(String(36), index=True)
    valid_from: Mapped[date | None] = mapped_column(Date())
    valid_to: Mapped[date | None] = mapped_column(Date())
    option: Mapped[str | None] = mapped_column(Text())
    currency: Mapped[str | None] = mapped_column(Text())
    amount: Mapped[float | None] = mapped_column(Float())
    amount_description: Mapped[str | None] = mapped_column(Text())


class OrganizationIdentifier(Base):
    """HSDS organization_identifier (organization_identifiers.csv)."""

    __tablename__ = "hsds_organization_identifiers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organization_id: Mapped[str] = mapped_column(String(36), index=True)
    identifier_scheme: Mapped[str | None] = mapped_column(Text())
    identifier_type: Mapped[str] = mapped_column(Text())
    identifier: Mapped[str] = mapped_column(Text())


class Taxonomy(Base):
    """HSDS taxonomy (taxonomies.csv)."""

    __tablename__ = "hsds_taxonomies"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(Text())
    description: Mapped[str] = mapped_column(Text())
    uri: Mapped[str | None] = mapped_column(Text())
    version: Mapped[str | None] = mapped_column(Text())


class DirectoryImport(Base):
    """One run of `heart resources import`: what it read and what became of it (counts and file names only)."""

    __tablename__ = "resource_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    source: Mapped[str] = mapped_column(Text())
    summary: Mapped[dict[str, Any]] = mapped_column(JSONType)


MODELS: dict[str, type[Base]] = {
    "organization": Organization,
    "program": Program,
    "service": Service,
    "attribute": Attribute,
    "service_at_location": ServiceAtLocation,
    "location": Location,
    "phone": Phone,
    "contact": Contact,
    "address": Address,
    "schedule": Schedule,
    "funding": Funding,
    "service_area": ServiceArea,
    "required_document": RequiredDocument,
    "language": Language,
    "accessibility": Accessibility,
    "taxonomy_term": TaxonomyTerm,
    "metadata": MetadataEntry,
    "meta_table_description": MetaTableDescription,
    "cost_option": CostOption,
    "organization_identifier": OrganizationIdentifier,
    "taxonomy": Taxonomy,
}
"""HSDS table name → its model."""
