"""``provisioner doctor``: checks a deployment before its first project.

Each check gives ``ok``, ``warn``, ``fail`` or ``skip`` (an earlier failure makes
it meaningless), a result and how to fix it: the settings parse; the App key is
an RSA PEM key GitHub accepts; GitHub answers ``GET /app`` with the App's JWT;
the clock is within a minute of GitHub's ``Date``; the installation is found and
grants what the features in use need (:mod:`shared.provisioning.app_permissions`);
PostgreSQL answers and is at the newest migration; Redis answers; a worker's
heartbeat is recent; the queue's depth and its oldest unfinished project.
"""

from cli.doctor.model import Check, Outcome, render_json, render_table
from cli.doctor.run import diagnose

__all__ = ["Check", "Outcome", "diagnose", "render_json", "render_table"]
