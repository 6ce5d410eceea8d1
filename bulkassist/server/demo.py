"""Demo data: what `bulkassist demo` and the test servers start with.

Organisations (each with the packaged demo select lists):

- "Demo Organisation": licensed, Payment not enabled; users `admin` (admin group), `importer` (imports
  every domain but Payment), `viewer` (no permission), `registrar` (seed 002's Manage Registration &
  Certification and Data Export roles on qualification records, no Bulk Upload); clients, courses
  MATH101 ... with sections, assignments; course record courses PHARM-101, PHARM-102 (with certificates)
  and PHARM-900 (a shell without one) and credit types (CREDIT_TYPES); learners with ULNs 1000000001 ...
  1000000030, qualifications (QUALIFICATIONS) and Registration & Certification records for the first 20
  learners.
- "Other Organisation": licensed; user `other_org` imports everything (proves isolation), `other_admin`
  administers it.
- "Unlicensed Organisation": no Bulk Data Import licence; user `unlicensed`.
- "Limited Organisation": licensed with 5 rows a day; user `limited`.

Seeding is idempotent: run again, it only issues fresh tokens for the same users. `demo_passwords` gives
every demo user a fresh random password to sign in to the dashboard with (`bulkassist demo` prints them).
"""

from __future__ import annotations

import random
import secrets
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bulkassist.engine.selectlists import demo_lists
from bulkassist.server import admin
from bulkassist.server.domains.base import KEY_SEP
from bulkassist.server.domains.course_record import set_credit_type
from bulkassist.server.models import (
    Course,
    Learner,
    Organisation,
    QualificationInfo,
    Record,
    Section,
    utcnow,
)

DEMO_ORG = "Demo Organisation"
ORGS = {  # demo user (role) -> organisation
    "admin": DEMO_ORG,
    "importer": DEMO_ORG,
    "viewer": DEMO_ORG,
    "registrar": DEMO_ORG,
    "other_org": "Other Organisation",
    "other_admin": "Other Organisation",
    "unlicensed": "Unlicensed Organisation",
    "limited": "Limited Organisation",
}
REGISTRARS = "Registration & Certification"  # seed 002's Manage R&C + Data Export roles
# Qualification number -> (Qualification Name, Awarding Organisation)
QUALIFICATIONS = {"60312345": ("Level 3 Diploma in Adult Care", "City & Guilds"),
                  "60399999": ("Level 2 Certificate in Customer Service", "Pearson"),
                  "60154321": ("Level 4 Certificate in Education and Training", "NCFE")}
LEARNER_ULNS = [f"10000000{i:02d}" for i in range(1, 31)]
IMPORTERS = ["client", "client_assignment", "case", "qualification", "business_client", "contact",
             "address_history", "course_record"]
COURSES = [("MATH101", "College Algebra", 250.0), ("MATH102", "Trigonometry", 250.0),
           ("MATH201", "Calculus I", 300.0), ("ENG101", "Composition I", 200.0),
           ("ENG201", "American Literature", 220.0), ("ENG202", "British Literature", 220.0),
           ("SCI110", "Biology Basics", 275.0), ("HIST150", "World History", 180.0),
           ("CNA100", "Certified Nursing Assistant", 950.0), ("WELD120", "Welding Fundamentals", 1200.0)]
# Courses of course record imports (seed 004): code, title, has a certificate.
RECORD_COURSES = [("PHARM-101", "Pharmacy Law", True), ("PHARM-102", "Medication Safety", True),
                  ("PHARM-900", "Legacy course shell", False)]
# Credit types (seed 004): name, maximum credits, Variable (less than the maximum may be awarded).
CREDIT_TYPES = [("CPE", 2.0, True), ("CME", 1.0, False), ("CNE", 1.5, True), ("CEU", 1.0, False),
                ("ACPE Pharmacist", 2.0, False), ("ACPE Technician", 2.0, False), ("ABIM MOC", 1.0, True),
                ("AAPA Category 1", 1.0, True), ("Participation", 1.0, False)]
FIRST = ["Maria", "James", "Ana", "Robert", "Linh", "David", "Fatima", "Carlos", "Grace", "Samuel", "Aisha",
         "Noah", "Emily", "Luis", "Olivia", "Jean", "Mei", "Omar", "Sofia", "Ethan"]
LAST = ["Lopez", "Smith", "Nguyen", "Johnson", "Garcia", "Brown", "Pierre", "Williams", "Martinez", "Davis",
        "Khan", "Miller", "Rodriguez", "Wilson", "Anderson", "Thomas", "Chen", "Jackson", "White", "Harris"]


def seed_demo(session: Session, *, clients: int = 120) -> dict[str, str]:
    """Create (or reuse) the demo organisations and users; returns a fresh token per role."""
    lists = demo_lists()
    first_time = session.scalars(sa.select(Organisation).where(Organisation.name == DEMO_ORG)).first() is None
    if first_time:
        _organisations(session, lists)
        _records(session, clients)
    tokens = {}
    for role, org_name in ORGS.items():
        user = admin.user(session, role, admin.organisation(session, org_name))
        tokens[role] = admin.create_token(session, user, name="demo")
    return tokens


def demo_passwords(session: Session) -> dict[str, str]:
    """A fresh random password for every demo user (role -> password), set as an administrator would."""
    passwords = {}
    for role, org_name in ORGS.items():
        passwords[role] = secrets.token_urlsafe(9)
        admin.set_password(session, admin.user(session, role, admin.organisation(session, org_name)), passwords[role])
    return passwords


def _organisations(session: Session, lists) -> None:
    limits = {"Limited Organisation": 5}
    for name in dict.fromkeys(ORGS.values()):
        org = admin.create_org(session, name, licensed=name != "Unlicensed Organisation",
                               limit_day=limits.get(name))
        for list_name in lists.names():
            admin.set_list(session, org, list_name, lists.options(list_name))
        for credit_type, maximum, variable in CREDIT_TYPES:
            set_credit_type(session, org, credit_type, maximum, variable)
        admin.create_group(session, org, "Administrators", is_admin=True, import_domains=["*"])
        admin.create_group(session, org, "Importers", import_domains=IMPORTERS)
        admin.create_group(session, org, REGISTRARS, record_domains=["qualification"],
                           export_domains=["qualification"])
    for role, org_name in ORGS.items():
        org = admin.organisation(session, org_name)
        groups = {"admin": ["Administrators"], "other_admin": ["Administrators"], "viewer": [],
                  "registrar": [REGISTRARS]}.get(role, ["Importers"])
        admin.create_user(session, org, role, email=f"{role}@example.org", groups=groups)


def _records(session: Session, clients: int) -> None:
    """Clients, courses with two sections each, and assignments, for every organisation but one."""
    rng = random.Random(7)
    for org in session.scalars(sa.select(Organisation)).all():
        course_sections = []
        for code, title, fee in COURSES:
            course = Course(org_id=org.id, code=code, title=title)
            session.add(course)
            session.flush()
            for section in ("01", "02"):
                session.add(Section(course_id=course.id, code=section, fee=fee))
                course_sections.append((code, section))
        for code, title, certificate in RECORD_COURSES:
            session.add(Course(org_id=org.id, code=code, title=title, has_certificate=certificate))
        now = utcnow()
        ids = []
        for i in range(clients if org.name == DEMO_ORG else 10):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            record = Record(org_id=org.id, domain="client", created_at=now, data={
                "First Name": first, "Last Name": last,
                "Email Address": f"{first}.{last}{i}@example.org".lower(),
                "Phone Number": f"(727) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
                "Date of Birth": f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/{rng.randint(1950, 2005)}",
                "Language": "English",
            })
            session.add(record)
            session.flush()
            ids.append(record.id)
        for client_id in ids[: len(ids) // 2]:
            code, section = rng.choice(course_sections)
            session.add(Record(
                org_id=org.id, domain="client_assignment", parent_id=client_id, created_at=now,
                key=KEY_SEP.join((str(client_id), code, section)),
                data={"Client ID": str(client_id), "CourseID": code, "SectionID": section,
                      "Enrollment Status": "Enrolled"}))

    _learners(session, rng)


TOWNS = [("Leeds", "West Yorkshire", "LS1 4AB"), ("Bristol", "Bristol", "BS1 5TR"),
         ("Manchester", "Greater Manchester", "M1 2WD"), ("Norwich", "Norfolk", "NR2 1TF")]
EMPLOYERS = ["Sunrise Care Homes", "Northern Rail", "Harbour Hotels", "City Council"]
TUTORS = ["Priya Shah", "Tom Ellis", "Joan Whitaker"]


def _learners(session: Session, rng: random.Random) -> None:
    """Learners (seed 002's export profile), the qualifications offered, and Registration & Certification
    records for the first 20 learners, in every organisation."""
    for org in session.scalars(sa.select(Organisation)).all():
        for number, (name, awarding) in QUALIFICATIONS.items():
            session.add(QualificationInfo(org_id=org.id, number=number, name=name, awarding_organisation=awarding))
        numbers = list(QUALIFICATIONS)
        for i, uln in enumerate(LEARNER_ULNS):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            town, county, post_code = rng.choice(TOWNS)
            session.add(Learner(
                org_id=org.id, uln=uln, title=rng.choice(["Mr", "Ms", "Mrs", "Mx", "Dr"]), first_name=first,
                last_name=last, address_line_1=f"{rng.randint(1, 200)} High Street", address_line_2=f"Flat {i + 1}",
                town=town, county=county, post_code=post_code, country="England",
                date_of_birth=date(rng.randint(1960, 2006), rng.randint(1, 12), rng.randint(1, 28)),
                gender=rng.choice(["Female", "Male", "Non-binary"]), email=f"{first}.{last}{i}@example.org".lower(),
                ethnicity=rng.choice(["White British", "Asian British", "Black British", "Mixed"]),
                employer=rng.choice(EMPLOYERS), programme="Apprenticeship Standard", primary_tutor=rng.choice(TUTORS),
                start_date=date(2025, 9, 1), planned_achievement_date=date(2027, 7, 31), qa_verified=i % 3 != 0))
            if i < 20:
                number = numbers[i % len(numbers)]
                registration = f"REG-DEMO-{i + 1:03d}"
                session.add(Record(org_id=org.id, domain="qualification", key=KEY_SEP.join((uln, number, registration)),
                                   created_at=utcnow(), data={
                                       "Qualification Number": number, "ULN": uln, "Status": "Registered",
                                       "Registration number": registration, "Registration date": "15/09/2025"}))
