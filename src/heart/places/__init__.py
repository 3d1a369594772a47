"""Where a call is: the city's address points, the geocoder, the map's base layers, location history and notes."""
