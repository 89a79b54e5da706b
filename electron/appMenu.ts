/** A minimal menu: quit, reload, full screen, and developer tools only in a development build. */
import { Menu, type MenuItemConstructorOptions } from 'electron';

export function buildAppMenu(development: boolean): Menu {
  const view: MenuItemConstructorOptions[] = [{ role: 'reload' }, { role: 'togglefullscreen' }];
  if (development) view.push({ role: 'toggleDevTools' });
  return Menu.buildFromTemplate([
    { label: 'Line Station', submenu: [{ role: 'quit' }] },
    { label: 'View', submenu: view },
  ]);
}
