// @serialport/bindings-interface ships its types only under the "require" export condition, so
// its types are resolved in CommonJS mode here, once, for the rest of the transports.
export type {
  BindingInterface,
  BindingPortInterface as BindingPort,
  PortInfo,
} from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };

/** The line every station port uses besides its baud rate: 8N1, no hardware flow control. */
export const LINE_8N1 = { dataBits: 8, parity: 'none', stopBits: 1, rtscts: false } as const;
