// @serialport/bindings-interface ships its types only under the "require" export condition, so
// its types are resolved in CommonJS mode here, once, for the rest of the transports.
export type {
  BindingInterface,
  BindingPortInterface as BindingPort,
  PortInfo,
} from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
