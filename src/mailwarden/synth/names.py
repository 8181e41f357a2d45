"""Word lists the generator draws names from. Organisations are Microsoft's own
fictional companies, so no generated tenant looks like a real one."""

from __future__ import annotations

from typing import Final

ORGANISATIONS: Final[tuple[tuple[str, str], ...]] = (
    ("Contoso", "contoso"),
    ("Fabrikam", "fabrikam"),
    ("Northwind Traders", "northwindtraders"),
    ("Tailspin Toys", "tailspintoys"),
    ("Woodgrove Bank", "woodgrovebank"),
    ("Litware", "litwareinc"),
    ("Adventure Works", "adventure-works"),
    ("Proseware", "proseware"),
    ("Wingtip Toys", "wingtiptoys"),
    ("Alpine Ski House", "alpineskihouse"),
)

PARTNER_DOMAINS: Final = (
    "partner-consulting.example", "auditfirm.example", "lawpartners.example",
    "outsourced-it.example", "agency-creative.example", "supplier-one.example",
)
#: Personal mail domains that external forwarding goes to.
FREEMAIL_DOMAINS: Final = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "gmx.net")

FIRST_NAMES: Final = (
    "Aaliyah", "Adam", "Adele", "Ahmed", "Aiko", "Alan", "Alex", "Alice", "Amara", "Amir",
    "Ana", "Andrea", "Andrew", "Anna", "Arjun", "Ben", "Bianca", "Bruno", "Carla", "Carlos",
    "Chen", "Chloe", "Chris", "Clara", "Daniel", "David", "Diana", "Diego", "Elena", "Eli",
    "Emma", "Erik", "Eva", "Fatima", "Felix", "Fiona", "Gabriel", "Grace", "Hana", "Hannah",
    "Harper", "Hassan", "Henry", "Ines", "Isaac", "Isabel", "Ivan", "Jack", "James", "Jana",
    "Javier", "Jin", "Joao", "John", "Jonas", "Julia", "Kai", "Karen", "Kenji", "Laura",
    "Leila", "Leo", "Lina", "Lucas", "Lucy", "Luis", "Maya", "Marco", "Maria", "Mark",
    "Marta", "Mateo", "Mei", "Mia", "Michael", "Mohamed", "Nadia", "Nina", "Noah", "Nora",
    "Olivia", "Omar", "Oscar", "Paul", "Pedro", "Priya", "Rafael", "Rahul", "Rosa", "Ruth",
    "Sam", "Samir", "Sara", "Sofia", "Sven", "Tariq", "Tom", "Uma", "Victor", "Wei",
    "Yara", "Yusuf", "Zara", "Zoe",
)
LAST_NAMES: Final = (
    "Abbott", "Adeyemi", "Alvarez", "Andersen", "Bauer", "Becker", "Bianchi", "Brown",
    "Campbell", "Carter", "Chen", "Costa", "Cruz", "Dubois", "Edwards", "Eriksson", "Evans",
    "Fischer", "Fernandes", "Garcia", "Gomez", "Gupta", "Hansen", "Haddad", "Hoffmann",
    "Hughes", "Ivanova", "Jansen", "Johnson", "Kaur", "Kim", "Klein", "Kowalski", "Larsen",
    "Lee", "Lopez", "Martin", "Meyer", "Molina", "Moreau", "Murphy", "Nakamura", "Nguyen",
    "Nielsen", "Novak", "Okafor", "Olsen", "Ortiz", "Park", "Patel", "Perez", "Petrov",
    "Quinn", "Ramos", "Reyes", "Ricci", "Rossi", "Santos", "Sato", "Schmidt", "Schneider",
    "Shah", "Silva", "Singh", "Smith", "Suzuki", "Tanaka", "Taylor", "Thomas", "Torres",
    "Usman", "Varga", "Vogel", "Wagner", "Walsh", "Wang", "Weber", "Williams", "Wilson",
    "Wong", "Yamamoto", "Yilmaz", "Young", "Zhang", "Zimmermann",
)

#: Department -> (teams, job titles, shared-mailbox functions).
DEPARTMENTS: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]]] = {
    "Finance": (
        ("Accounts Payable", "Accounts Receivable", "Treasury", "Controlling", "Tax"),
        ("Accountant", "Financial Analyst", "Controller", "Finance Manager"),
        ("invoices", "payables", "receivables", "finance", "expenses", "treasury"),
    ),
    "Human Resources": (
        ("Recruiting", "Payroll", "People Partners", "Learning"),
        ("HR Partner", "Recruiter", "Payroll Specialist", "HR Manager"),
        ("hr", "careers", "payroll", "benefits", "onboarding"),
    ),
    "Sales": (
        ("Inside Sales", "Key Accounts", "Sales Operations", "Partners"),
        ("Account Executive", "Sales Manager", "Sales Engineer"),
        ("sales", "orders", "quotes", "partners"),
    ),
    "Marketing": (
        ("Brand", "Digital", "Events", "Communications"),
        ("Marketing Manager", "Content Writer", "Designer"),
        ("marketing", "press", "events", "newsletter"),
    ),
    "Engineering": (
        ("Platform", "Mobile", "Data", "Quality", "Architecture"),
        ("Software Engineer", "Engineering Manager", "Data Engineer", "QA Engineer"),
        ("builds", "releases", "oncall"),
    ),
    "IT": (
        ("Service Desk", "Infrastructure", "Security Operations", "Identity"),
        ("IT Technician", "Systems Administrator", "Security Analyst"),
        ("helpdesk", "itsupport", "security-alerts", "licensing", "phishing-reports"),
    ),
    "Legal": (
        ("Contracts", "Compliance", "Privacy"),
        ("Counsel", "Paralegal", "Compliance Officer"),
        ("legal", "contracts", "privacy", "dpo"),
    ),
    "Operations": (
        ("Logistics", "Procurement", "Facilities"),
        ("Operations Manager", "Buyer", "Facilities Coordinator"),
        ("purchasing", "logistics", "facilities", "reception"),
    ),
    "Customer Support": (
        ("Tier 1", "Tier 2", "Customer Success"),
        ("Support Specialist", "Support Lead", "Customer Success Manager"),
        ("support", "info", "contact", "complaints", "returns"),
    ),
}

REGIONS: Final = ("emea", "amer", "apac", "uk", "de", "fr", "us", "ca", "au", "jp")
OFFICES: Final = ("London", "Seattle", "Berlin", "Paris", "Sydney", "Tokyo", "Toronto", "Madrid")
EQUIPMENT: Final = ("Projector", "Pool Car", "Camera Kit", "Laptop Loaner", "Van", "Podcast Kit")
SERVICE_ACCOUNTS: Final = (
    ("scanner", "Scan to Email"), ("noreply", "No Reply"), ("alerts", "Monitoring Alerts"),
    ("svc-crm", "CRM Integration"), ("svc-erp", "ERP Mailer"), ("printer", "Print Service"),
)
