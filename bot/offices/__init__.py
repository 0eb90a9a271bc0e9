"""Offices of the service (issue 16): the ministry in Lima and the regional labour offices that join.

Advisors belong to one or more offices; each office has its own hours and queue; chats and e-mails are
routed to the office of the region the person names (bot/offices/regions.py), else to the main office;
an advisor can move a conversation to another office; supervisors see every office and manage them.

Modules: schema (tables), regions (Peru's regions as people write them), hours (office hours: the format,
open or closed, the next opening), directory (offices, members, routing).
"""
