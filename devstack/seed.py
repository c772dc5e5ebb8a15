"""Demo data for `make run`, loaded once through the gateway's API like any user would:
three communities, a hospital canteen with a charity lunch, a repair craftsman, two
residents, two volunteers on duty, a coordinator and an admin."""
from __future__ import annotations

from gateway.admin import create_account, demo_seeded, mark_demo_seeded
from linli.domain_errors import Conflict

from .client import Client

PASSWORD = "linli-demo"
COMMUNITIES = [
    {"id": "lianxi", "name": "莲溪社区 Lianxi", "center": {"lng": 121.5588, "lat": 31.1765},
     "committee_phone": "021-5888 1001", "buildings": [
         {"name": str(n), "entrance": {"lng": round(121.5570 + n * 0.0002, 6), "lat": 31.1760}} for n in range(1, 16)]},
    {"id": "beicai", "name": "北蔡社区 Beicai", "center": {"lng": 121.5466, "lat": 31.1857},
     "committee_phone": "021-5888 1002", "buildings": [
         {"name": str(n), "entrance": {"lng": round(121.5450 + n * 0.0002, 6), "lat": 31.1850}} for n in range(1, 11)]},
    {"id": "pengfei", "name": "鹏飞社区 Pengfei", "center": {"lng": 121.5351, "lat": 31.1790},
     "committee_phone": "021-5888 1003"},
]
PROFILES = {  # saved addresses, so that the pages can order with a tap (born 1948/1950: elder mode by default)
    "wang": {"community_id": "lianxi", "addresses": [{"community_id": "lianxi", "building": "12", "room": "301"}],
             "phone": "139 1234 5678", "birth_year": 1948,
             "emergency_contact": {"name": "王小丽", "phone": "139 8765 4321", "relation": "女儿"}},
    "uncle_li": {"community_id": "beicai", "addresses": [{"community_id": "beicai", "building": "3", "room": "502"}],
                 "phone": "139 2222 3333", "birth_year": 1950},
}
# which demo account to sign in with for each role's pages (make run prints it)
PAGES_BY_ROLE = (("resident", "wang"), ("provider", "canteen"), ("volunteer", "zhang"),
                 ("coordinator", "coordinator"), ("admin", "admin"))
ALL = [c["id"] for c in COMMUNITIES]
ACCOUNTS = [  # username, display name, role, what they are
    ("admin", "系统管理员 Admin", "admin", "manages categories, communities and coordinators"),
    ("coordinator", "林主任 Director Lin", "coordinator", "residents' committee: verifies, watches, refunds"),
    ("canteen", "北蔡社区医院食堂 Beicai hospital canteen", "provider", "cooks the charity lunch"),
    ("repairs", "老陈家电维修 Chen's repairs", "provider", "appliance repair visits"),
    ("wang", "王阿姨 Auntie Wang", "resident", "lives in Lianxi, building 12, room 301"),
    ("uncle_li", "李伯伯 Uncle Li", "resident", "lives in Beicai, building 3, room 502"),
    ("zhang", "小张 Xiao Zhang", "volunteer", "on duty by bike near the canteen"),
    ("zhao", "小赵 Xiao Zhao", "volunteer", "on duty on foot in Lianxi"),
]


def _sign_in(api: Client, username: str, name: str, role: str) -> Client:
    if role in ("admin", "coordinator"):
        try:
            create_account(username, PASSWORD, name, role, tuple(ALL) if role == "coordinator" else ())
        except Conflict:  # the username is taken: made on an earlier start
            pass
        return api.login(username, PASSWORD)
    created = api.request("POST", "/api/v1/auth/register", expect=(201, 409),
                          json={"username": username, "password": PASSWORD, "name": name, "role": role})
    return api.as_(created.json()["access_token"]) if created.status_code == 201 else api.login(username, PASSWORD)


def already_seeded() -> bool:
    return demo_seeded()


def seed(base_url: str) -> dict:
    api = Client(base_url)
    who = {username: _sign_in(api, username, name, role) for username, name, role, _ in ACCOUNTS}
    admin, coordinator = who["admin"], who["coordinator"]
    for community in COMMUNITIES:
        admin.request("POST", "/api/v1/catalog/communities", json=community, expect=(201, 409))
    for username, profile in PROFILES.items():
        who[username].put("/api/v1/me/profile", profile)

    canteen = who["canteen"].post("/api/v1/catalog/providers", {
        "name": "北蔡社区医院食堂 Beicai hospital canteen", "kind": "hospital_canteen", "phone": "021-5888 0001",
        "address": "北蔡镇沪南路 1000 号 1000 Hunan Road, Beicai", "location": {"lng": 121.5520, "lat": 31.1810},
        "community_ids": ALL})
    coordinator.post(f"/api/v1/catalog/providers/{canteen['id']}/verify")
    lunch = who["canteen"].post("/api/v1/catalog/listings", {
        "title": "爱心午餐 Charity lunch (1 portion)", "description": "两荤一素一汤 Two meat dishes, one vegetable, soup.",
        "category": "charity_meals", "fulfilment": "delivered", "price_fen": 1500, "unit": "portion",
        "community_ids": ALL, "max_quantity": 3,
        "slots": [{"name": "lunch", "start": "11:00", "end": "12:30", "capacity": 40}]})

    repairs = who["repairs"].post("/api/v1/catalog/providers", {
        "name": "老陈家电维修 Chen's repairs", "kind": "craftsman", "phone": "139 0000 0002",
        "address": "莲溪路 88 号 88 Lianxi Road", "location": {"lng": 121.5601, "lat": 31.1752},
        "community_ids": ["lianxi", "beicai"]})
    coordinator.post(f"/api/v1/catalog/providers/{repairs['id']}/verify")
    who["repairs"].post("/api/v1/catalog/listings", {
        "title": "上门家电维修 Appliance repair visit", "description": "Washing machines, fridges, rice cookers.",
        "category": "appliance_repair", "fulfilment": "on_site", "price_fen": 3000, "unit": "visit",
        "community_ids": ["lianxi", "beicai"], "max_quantity": 1,
        "slots": [{"name": "morning", "start": "09:00", "end": "12:00", "capacity": 4}]})

    for username, vehicle, spot in (("zhang", "bike", (121.5500, 31.1800)), ("zhao", "foot", (121.5580, 31.1770))):
        name = next(a[1] for a in ACCOUNTS if a[0] == username)
        volunteer = who[username].post("/api/v1/delivery/volunteers", {
            "name": name, "phone": "138 0000 00" + ("11" if username == "zhang" else "22"),
            "community_ids": ALL, "vehicle": vehicle, "max_tasks": 2})
        coordinator.post(f"/api/v1/delivery/volunteers/{volunteer['id']}/verify")
        who[username].put("/api/v1/delivery/volunteers/me/duty",
                          {"on_duty": True, "location": {"lng": spot[0], "lat": spot[1]}})

    mark_demo_seeded(lunch_listing=lunch["id"])
    return {"lunch_listing": lunch["id"]}
