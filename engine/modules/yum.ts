// yum: RPM packages on RHEL/CentOS 7 and older (shared with dnf in packages-rpm.ts).
import { rpmModule } from './packages-rpm.js';

export default rpmModule('yum');
