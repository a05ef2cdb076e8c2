/** Injection tokens of the relay runs' collaborators (interfaces, so tests give fakes). */
export const RELAY_TRANSPORTS = Symbol('RelayTransports');
export const RELAY_PULSES = Symbol('RelayPulses');
