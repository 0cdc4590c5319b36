import HenDrivers
