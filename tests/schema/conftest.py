from ..client_fixtures import (  # noqa: F401  (fixtures, found by pytest by name)
    SECRET,
    _isolated,
    fake_time,
    journal,
    make_client,
    service,
    stand,
    stand_client,
    system_temp,
)
