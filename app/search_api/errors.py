from app.errors import ServiceUnavailable


class SearchUnavailable(ServiceUnavailable):
    problem, title = "search-unavailable", "Search unavailable"

    def __init__(self) -> None:
        super().__init__(
            "Search is unavailable at the moment; threads can still be read and written. "
            "Retry shortly.",
            headers={"Retry-After": "5"},
        )
